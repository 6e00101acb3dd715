//! Warnings: things a host should see but that do not stop encore (secrets not chosen yet, no
//! platform, nowhere for staff work to go, settings the law or advertising rules need).
//!
//! This module only reads a loaded configuration; it never refuses one (that is `checks.rs`) and
//! never puts a secret's value in a warning.

use secrecy::ExposeSecret;

use super::Config;

/// 정보통신망법 asks for a consent re-notice every two years.
const RENOTICE_LEGAL_DAYS: u32 = 730;

impl Config {
    /// Things a host should see but that do not stop encore: secrets not chosen yet, no
    /// platform, nowhere for staff work to go, settings the law or advertising rules need.
    pub fn warnings(&self) -> Vec<String> {
        // The same lines `encore serve` stops with, so `config check` shows them first.
        let mut warnings: Vec<String> = self
            .unsafe_secrets()
            .iter()
            .map(ToString::to_string)
            .collect();
        let webhook_secret = self.http.webhook_secret.expose_secret();
        if !webhook_secret.trim().is_empty()
            && webhook_secret == self.http.admin_token.expose_secret()
        {
            warnings.push(
                "http.webhook_secret and http.admin_token are the same; use two different values"
                    .to_string(),
            );
        }

        let mut secrets = vec![
            ("http.webhook_secret", &self.http.webhook_secret),
            ("http.admin_token", &self.http.admin_token),
        ];
        if let Some(t) = &self.telegram {
            secrets.push(("telegram.token", &t.token));
            secrets.push(("telegram.webhook_secret_token", &t.webhook_secret_token));
        }
        if let Some(d) = &self.discord {
            secrets.push(("discord.token", &d.token));
        }
        if let Some(k) = &self.kakao {
            secrets.push(("kakao.api_secret", &k.api_secret));
            if k.templates.is_empty() {
                warnings.push(
                    "[kakao] has no [kakao.templates]: no note goes by KakaoTalk; each is counted as no_template (docs/kakao.md lists the templates to register)"
                        .to_string(),
                );
            }
        }
        for (key, secret) in secrets {
            let value = secret.expose_secret();
            if value.trim() != value {
                warnings.push(format!(
                    "{key} starts or ends with a space or line break; it is used exactly as given"
                ));
            }
        }

        if self.telegram.is_none() && self.discord.is_none() {
            warnings.push(if self.kakao.is_some() {
                "no messenger is configured (no [telegram] or [discord] section): notes go only by KakaoTalk, to buyers with a phone number, and nobody can link or talk to the bot"
                    .to_string()
            } else {
                "no platform is configured (no [telegram] or [discord] section): encore serve will only run the HTTP API"
                    .to_string()
            });
        }
        if let Some(t) = &self.telegram {
            if t.staff_chat_id.is_none() {
                warnings.push(
                    "telegram.staff_chat_id is not set: hand-offs, reports and staff commands have no chat on Telegram"
                        .to_string(),
                );
            }
            if t.staff_user_ids.is_empty() {
                warnings.push(
                    "telegram.staff_user_ids is empty: only anonymous admins of the staff chat can use staff commands"
                        .to_string(),
                );
            }
            match &t.webhook_url {
                Some(url) if t.webhook_mode() && !url.starts_with("https://") => warnings.push(
                    "telegram.webhook_url is not https://: Telegram posts updates only to HTTPS URLs"
                        .to_string(),
                ),
                Some(_) if !t.webhook_mode() => warnings.push(
                    "telegram.webhook_url is set but telegram.mode is \"polling\": it is not used"
                        .to_string(),
                ),
                _ => {}
            }
        }
        if let Some(d) = &self.discord {
            if d.guild_id.is_none() {
                warnings.push(
                    "discord.guild_id is not set: encore cannot find the shop's server on Discord"
                        .to_string(),
                );
            }
            if d.staff_channel_id.is_none() {
                warnings.push(
                    "discord.staff_channel_id is not set: hand-offs, reports and staff commands have no channel on Discord"
                        .to_string(),
                );
            }
            if d.staff_user_ids.is_empty() {
                warnings.push(
                    "discord.staff_user_ids is empty: nobody can use staff commands on Discord"
                        .to_string(),
                );
            }
        }
        if self.shop.contact.trim().is_empty() {
            warnings.push(
                "shop.contact is empty: advertising messages must show the shop's contact"
                    .to_string(),
            );
        }
        if self.policy.consent_renotice_days > RENOTICE_LEGAL_DAYS {
            warnings.push(format!(
                "policy.consent_renotice_days is {}: the law asks for a re-notice at least every 2 years ({RENOTICE_LEGAL_DAYS} days)",
                self.policy.consent_renotice_days
            ));
        }
        let digest_time = self.policy.digest_time.0;
        if self.journeys.digest && !self.policy.send_window.contains(digest_time) {
            warnings.push(format!(
                "policy.digest_time {} is outside policy.send_window {}: the weekly letter would wait for the window and expire at midnight unsent; pick a time inside the window",
                digest_time.format("%H:%M"),
                self.policy.send_window
            ));
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::config::tests::{CONTRACT_EXAMPLE, NO_ENV, env};

    #[test]
    fn warnings_point_at_example_secrets_and_missing_staff_settings() {
        let warnings = Config::default().warnings();
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("http.webhook_secret is not set"))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("http.admin_token is not set"))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("no platform is configured"))
        );

        let c = Config::from_sources(CONTRACT_EXAMPLE, NO_ENV).unwrap();
        let warnings = c.warnings();
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("http.webhook_secret is still the example value"))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("http.admin_token is still the example value"))
        );
        assert!(!warnings.iter().any(|w| w.starts_with("no platform")));
        assert!(
            !warnings.iter().any(|w| w.contains("staff")),
            "{warnings:?}"
        );

        let c = Config::from_sources("", env(&[("ENCORE_TELEGRAM_TOKEN", "1:A")])).unwrap();
        let warnings = c.warnings();
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("telegram.staff_chat_id is not set"))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("telegram.staff_user_ids is empty"))
        );

        let c = Config::from_sources(
            "[http]\nwebhook_secret = \"0123456789abcdef0123\"\nadmin_token = \"fedcba9876543210fedc\"\n[shop]\ncontact = \"010\"\n[telegram]\ntoken = \"1:A\"\nstaff_chat_id = -1\nstaff_user_ids = [1]\n",
            NO_ENV,
        )
        .unwrap();
        assert_eq!(c.warnings(), Vec::<String>::new());
    }

    #[test]
    fn a_weekly_letter_set_outside_the_send_window_is_warned_about() {
        let config = |time: &str| {
            Config::from_sources(
                &format!("[journeys]\ndigest = true\n[policy]\ndigest_time = \"{time}\"\n"),
                NO_ENV.to_vec(),
            )
            .expect("valid")
        };
        let late = config("20:30").warnings();
        assert!(
            late.iter().any(|w| w
                .starts_with("policy.digest_time 20:30 is outside policy.send_window 09:00-20:00")),
            "{late:?}"
        );
        let fine = config("18:00").warnings();
        assert!(!fine.iter().any(|w| w.contains("digest_time")), "{fine:?}");
    }

    #[test]
    fn a_webhook_url_is_warned_about_when_it_is_plain_http_or_unused() {
        let warnings = |extra: &str| {
            Config::from_sources(&format!("[telegram]\ntoken = \"1:A\"\n{extra}"), NO_ENV)
                .unwrap()
                .warnings()
        };
        let plain = warnings(
            "mode = \"webhook\"\nwebhook_url = \"http://bot.example.com/telegram/webhook\"\n",
        );
        assert!(
            plain
                .iter()
                .any(|w| w.starts_with("telegram.webhook_url is not https://")),
            "{plain:?}"
        );
        let unused = warnings("webhook_url = \"https://bot.example.com/telegram/webhook\"\n");
        assert!(
            unused.iter().any(|w| w.contains("it is not used")),
            "{unused:?}"
        );
        let fine = warnings(
            "mode = \"webhook\"\nwebhook_url = \"https://bot.example.com/telegram/webhook\"\n",
        );
        assert!(
            !fine.iter().any(|w| w.starts_with("telegram.webhook_url")),
            "{fine:?}"
        );
    }
}
