//! Batches of the dispatcher's database work, so that one leader keeps up with a platform limit
//! of a thousand a second on PostgreSQL (issue #12): what a message costs is mostly round trips
//! and commits, and those can be shared while every message keeps its own turn.
//!
//! 1. A delivery task hands its job to a [`Batches`] queue and awaits the answer. A worker takes
//!    every job waiting (up to a maximum) as one batch: whatever arrived while the previous one
//!    was in the database, and whatever arrives within a short linger after the first job
//!    (a few milliseconds, so the deliveries a claim started together share their database
//!    work rather than the first going alone). A lone message waits for nobody longer than that.
//! 2. The dispatcher uses three: the look-up of recipients as deliveries start (the customers,
//!    their identities and, for advertising, the send gate's facts: a few queries for the
//!    batch), the rendering transaction (rows locked in id order, consent checked again, the
//!    facts the words are written from read for the batch, the words written, one UPDATE marking
//!    the batch `sending` under the fence), and the record of what the platform accepted (one
//!    UPDATE marking the batch `sent`, retried until stored).
//! 3. Each message still waits for its own chat's turn before it is rendered and takes its own
//!    global slot before it goes on the wire (`pacing.rs`); a batch never sends anything.
//! 4. A batch whose database work fails as a whole is done again job by job
//!    ([`together_or_one_by_one`]), so one job's fault never holds back the others.
//! 5. The KakaoTalk client (`platforms::kakao`) uses one too: the notes handed to it while its
//!    previous request was on the wire go to the dealer together, in one `send-many` request.
//!
//! This module owns the queueing only; what a batch does is its user's.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::store::StoreError;

/// A queue of jobs answered in batches by workers.
pub(crate) struct Batches<J, R> {
    jobs: mpsc::UnboundedSender<(J, oneshot::Sender<R>)>,
}

impl<J, R> Clone for Batches<J, R> {
    fn clone(&self) -> Self {
        Batches {
            jobs: self.jobs.clone(),
        }
    }
}

/// The queue went away (the dispatcher is stopping): the job was not done.
#[derive(Debug)]
pub(crate) struct Gone;

impl<J: Send + 'static, R: Send + 'static> Batches<J, R> {
    /// Starts `workers` workers, each answering up to `max` jobs at a time with `handle`, which
    /// returns one answer per job in the jobs' order; a batch waits up to `linger` after its
    /// first job for more. They stop once every `Batches` handle is dropped and the queue is
    /// empty.
    pub(crate) fn start<F, Fut>(
        workers: usize,
        max: usize,
        linger: Duration,
        handle: F,
    ) -> (Batches<J, R>, Vec<tokio::task::JoinHandle<()>>)
    where
        F: Fn(Vec<J>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let (jobs, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        let handles = (0..workers.max(1))
            .map(|_| {
                let (receiver, handle) = (receiver.clone(), handle.clone());
                tokio::spawn(async move { work(receiver, max.max(1), linger, handle).await })
            })
            .collect();
        (Batches { jobs }, handles)
    }

    /// Queues `job` and waits for its answer.
    pub(crate) async fn ask(&self, job: J) -> Result<R, Gone> {
        let (answer, answered) = oneshot::channel();
        self.jobs.send((job, answer)).map_err(|_| Gone)?;
        answered.await.map_err(|_| Gone)
    }
}

/// Answers `jobs` with `together` (one answer per job, in order); when that fails as a whole,
/// each job is tried again on its own, so one job's fault never holds back the others.
pub(super) async fn together_or_one_by_one<'a, J, A, F, Fut>(
    jobs: &'a [J],
    what: &str,
    together: F,
) -> Vec<Result<A, StoreError>>
where
    F: Fn(&'a [J]) -> Fut,
    Fut: Future<Output = Result<Vec<A>, StoreError>>,
{
    match together(jobs).await {
        Ok(answers) => return answers.into_iter().map(Ok).collect(),
        Err(err) if jobs.len() == 1 => return vec![Err(err)],
        Err(err) => {
            tracing::warn!(batch = jobs.len(), what, error = %err, "a batch failed; doing its jobs one by one");
        }
    }
    let mut answers = Vec::with_capacity(jobs.len());
    for job in jobs {
        let answer = together(std::slice::from_ref(job)).await;
        answers.push(answer.and_then(|mut one| {
            one.pop().ok_or_else(|| {
                StoreError::Corrupt(format!("{what}: a batch of one answered nothing"))
            })
        }));
    }
    answers
}

type Receiver<J, R> = Arc<Mutex<mpsc::UnboundedReceiver<(J, oneshot::Sender<R>)>>>;

async fn work<J, R, F, Fut>(receiver: Receiver<J, R>, max: usize, linger: Duration, handle: F)
where
    F: Fn(Vec<J>) -> Fut,
    Fut: Future<Output = Vec<R>>,
{
    loop {
        // One worker takes a batch at a time; the others work on theirs meanwhile.
        let batch = {
            let mut receiver = receiver.lock().await;
            let Some(first) = receiver.recv().await else {
                return;
            };
            let mut batch = vec![first];
            let until = tokio::time::Instant::now() + linger;
            while batch.len() < max {
                match receiver.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(TryRecvError::Empty) if !linger.is_zero() => {
                        match tokio::time::timeout_at(until, receiver.recv()).await {
                            Ok(Some(job)) => batch.push(job),
                            // The linger is over, or the queue is gone.
                            _ => break,
                        }
                    }
                    Err(_) => break,
                }
            }
            batch
        };
        let (jobs, answers): (Vec<J>, Vec<oneshot::Sender<R>>) = batch.into_iter().unzip();
        // A panic in one batch (a bug) must not end the worker, or every later job would wait
        // for ever: its jobs get no answer (their askers see `Gone` and put them back), and
        // the worker takes the next batch.
        let results = match AssertUnwindSafe(handle(jobs)).catch_unwind().await {
            Ok(results) => results,
            Err(_) => {
                tracing::error!(
                    batch = answers.len(),
                    "a batch panicked; its jobs are put back and the worker goes on"
                );
                continue;
            }
        };
        debug_assert_eq!(results.len(), answers.len());
        for (answer, result) in answers.into_iter().zip(results) {
            // A job whose task is gone has nobody to tell.
            let _ = answer.send(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn jobs_waiting_together_are_answered_in_one_batch_each_with_its_own_answer() {
        let batches_seen = Arc::new(AtomicUsize::new(0));
        let seen = batches_seen.clone();
        let (batches, workers) = Batches::start(1, 100, Duration::ZERO, move |jobs: Vec<u32>| {
            let seen = seen.clone();
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                jobs.into_iter().map(|j| j * 2).collect::<Vec<_>>()
            }
        });
        let asks: Vec<_> = (0..50)
            .map(|j| {
                let batches = batches.clone();
                tokio::spawn(async move { batches.ask(j).await.expect("answered") })
            })
            .collect();
        for (j, ask) in asks.into_iter().enumerate() {
            assert_eq!(ask.await.expect("task"), j as u32 * 2);
        }
        // The first job may go alone; the rest wait together while it is handled.
        assert!(batches_seen.load(Ordering::SeqCst) <= 3);
        drop(batches);
        for worker in workers {
            worker
                .await
                .expect("the worker stops once the queue is gone");
        }
    }

    #[tokio::test]
    async fn a_batch_that_panics_leaves_its_jobs_unanswered_and_the_worker_answers_the_next() {
        let (batches, _workers) =
            Batches::start(1, 1, Duration::ZERO, |jobs: Vec<u32>| async move {
                if jobs.contains(&13) {
                    panic!("a bug in one batch");
                }
                jobs.into_iter().map(|j| j + 1).collect::<Vec<_>>()
            });
        assert!(
            batches.ask(13).await.is_err(),
            "no answer for the panicked job"
        );
        assert_eq!(batches.ask(1).await.expect("the worker goes on"), 2);
    }

    #[tokio::test]
    async fn a_job_asked_within_the_linger_of_the_first_shares_its_batch() {
        let (batches, workers) =
            Batches::start(1, 2, Duration::from_secs(5), |jobs: Vec<u32>| async move {
                let size = jobs.len();
                jobs.into_iter().map(|_| size).collect::<Vec<_>>()
            });
        let first = {
            let batches = batches.clone();
            tokio::spawn(async move { batches.ask(1).await.expect("answered") })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = batches.ask(2).await.expect("answered");
        assert_eq!((first.await.expect("task"), second), (2, 2));
        drop(batches);
        for worker in workers {
            worker
                .await
                .expect("the worker stops once the queue is gone");
        }
    }
}
