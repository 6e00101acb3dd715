# Ratings, comments, hand-off to a person, FAQ.

thank-you-rating-ask = How did you like today's broadcast and what you bought? Tap 1–5 below (5 is best).
rating-1 = 1
rating-2 = 2
rating-3 = 3
rating-4 = 4
rating-5 = 5
button-talk-to-person = 👩 Talk to a person

feedback-thanks = Thank you for the { $rating }! If you want to tell us more, write here within 30 minutes — we read every word.
feedback-thanks-low = You gave us { $rating }. We are sorry it did not meet your expectations. Tell us what went wrong within 30 minutes, or talk to a person right away.
feedback-changed = Your rating is now { $rating }. Thank you!
feedback-changed-low = Your rating is now { $rating }. If something went wrong, a person from our team will help you.
feedback-comment-thanks = Thank you, we got your comment and will keep it in mind for the next broadcast.
feedback-help-thanks = Thank you for rating our help. We will keep getting better.
feedback-reflected = You told us "{ $said }". We acted on it: { $note }
    Thank you for telling us!

handoff-ack = We have passed you to a person from our team (request #{ $ticket }). Sorry for the trouble. Someone will answer you within { $hours } hours. Everything you write here, photos too, goes straight to them.
handoff-already-open = Your request #{ $ticket } is already with our team. Anything you write here goes straight to them.
handoff-confirm = Would you like to talk to a person from our team? Tap the button below.
handoff-staff-reply = 💬 Our team: { $text }
handoff-closed = Request #{ $ticket } is closed. Did we help? Tap 1–5 below.
handoff-progress = Your request #{ $ticket } is taking longer than we promised. We are sorry — we have not forgotten you, and a person will answer as soon as they can.
handoff-idle-closed = Request #{ $ticket } had no new messages for { $days } days, so we closed it. If you need more help, send /human anytime.

faq-answer = { $answer }
faq-not-found = Sorry, we did not find an answer to that. Would you like to ask a person?
faq-not-found-again = That is twice we could not find an answer. A person will be quicker — tap the button below.
