//! Configuration: defaults, then a TOML file, then `PASSERELLE_*` environment variables (a
//! secret may also come from `PASSERELLE_*_FILE`), then command-line flags. Every mistake is
//! reported in one French sentence naming the setting.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://passerelle.db?mode=rwc";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub addr: String,
    /// Public address used in e-mail links; derived from `addr` when not set.
    pub base_url: Option<String>,
    pub secret_key: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub operator: Option<String>,
    pub contact_email: Option<String>,
    pub session_idle_minutes: u64,
    pub trust_forwarded_for: bool,
    pub max_connections: u32,
    pub ban_api_url: Option<String>,
    pub geocoder: app::geocoding::GeocoderChoice,
    /// Days without contact after which a person is « perdu de vue ».
    pub lost_after_days: u32,
    /// Bearer token that opens `/metrics` from elsewhere than this machine.
    pub metrics_token: Option<String>,
    /// A session ends this many hours after login, however active.
    pub session_max_hours: u64,
    /// Published counts of 1 to this minus one people are masked.
    pub secrecy_threshold: i64,
    /// Requests per minute one API token may make.
    pub api_requests_per_minute: u32,
    /// Webhooks may go to this machine and private networks (an intranet), plain HTTP too.
    pub webhooks_private_addresses: bool,
    /// Sign-in with ProConnect: the provider's issuer, and this service's client id and secret.
    pub proconnect_issuer: Option<String>,
    pub proconnect_client_id: Option<String>,
    pub proconnect_client_secret: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: DEFAULT_DATABASE_URL.into(),
            addr: DEFAULT_ADDR.into(),
            base_url: None,
            secret_key: None,
            smtp_url: None,
            mail_from: None,
            operator: None,
            contact_email: None,
            session_idle_minutes: 120,
            trust_forwarded_for: false,
            max_connections: 10,
            ban_api_url: None,
            geocoder: app::geocoding::GeocoderChoice::Auto,
            lost_after_days: 90,
            metrics_token: None,
            session_max_hours: 12,
            secrecy_threshold: domain::secrecy::THRESHOLD,
            api_requests_per_minute: app::api_tokens::DEFAULT_REQUESTS_PER_MINUTE,
            webhooks_private_addresses: false,
            proconnect_issuer: None,
            proconnect_client_id: None,
            proconnect_client_secret: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    addr: Option<String>,
    base_url: Option<String>,
    secret_key: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    operator: Option<String>,
    contact_email: Option<String>,
    session_idle_minutes: Option<u64>,
    trust_forwarded_for: Option<bool>,
    max_connections: Option<u32>,
    ban_api_url: Option<String>,
    lost_after_days: Option<u32>,
    metrics_token: Option<String>,
    session_max_hours: Option<u64>,
    secrecy_threshold: Option<i64>,
    api_requests_per_minute: Option<u32>,
    webhooks_private_addresses: Option<bool>,
    proconnect_issuer: Option<String>,
    proconnect_client_id: Option<String>,
    proconnect_client_secret: Option<String>,
}

/// A yes-or-no setting read from the environment.
fn yes_or_no(name: &str, value: &str) -> Result<bool, String> {
    match value.trim() {
        "1" | "true" | "oui" => Ok(true),
        "0" | "false" | "non" | "" => Ok(false),
        _ => Err(format!("{name} vaut true ou false (reçu « {value} »)")),
    }
}

/// Where the configuration file is: `--config`, else `PASSERELLE_CONFIG`, else `passerelle.toml`
/// in the working directory when it exists.
pub fn config_path(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<(PathBuf, bool)> {
    if let Some(p) = explicit {
        return Some((p.to_path_buf(), true));
    }
    if let Some(p) = env("PASSERELLE_CONFIG") {
        return Some((PathBuf::from(p), true));
    }
    let default = PathBuf::from("passerelle.toml");
    default.exists().then_some((default, false))
}

impl Config {
    /// Loads the configuration; `env` reads a variable (the process environment in production).
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, String> {
        let mut config = Config::default();
        if let Some((path, _)) = config_path(file, env) {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                format!(
                    "fichier de configuration {} illisible : {e}",
                    path.display()
                )
            })?;
            let parsed: FileConfig = toml::from_str(&text).map_err(|e| {
                format!(
                    "fichier de configuration {} incorrect : {}",
                    path.display(),
                    e.message()
                ) + &e
                    .span()
                    .map(|s| format!(" (ligne {})", line_of(&text, s.start)))
                    .unwrap_or_default()
            })?;
            config.apply_file(parsed);
        }
        config.apply_env(env)?;
        config.validate()?;
        Ok(config)
    }

    fn apply_file(&mut self, f: FileConfig) {
        macro_rules! take {
            ($($field:ident),*) => {$( if let Some(v) = f.$field { self.$field = v.into(); } )*};
        }
        take!(
            database_url,
            addr,
            session_idle_minutes,
            trust_forwarded_for,
            max_connections,
            lost_after_days,
            session_max_hours,
            secrecy_threshold,
            api_requests_per_minute,
            webhooks_private_addresses
        );
        macro_rules! take_opt {
            ($($field:ident),*) => {$( if f.$field.is_some() { self.$field = f.$field; } )*};
        }
        take_opt!(
            base_url,
            secret_key,
            smtp_url,
            mail_from,
            operator,
            contact_email,
            ban_api_url,
            metrics_token,
            proconnect_issuer,
            proconnect_client_id,
            proconnect_client_secret
        );
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
        let secret = |name: &str| -> Result<Option<String>, String> {
            if let Some(v) = env(name) {
                return Ok(Some(v));
            }
            match env(&format!("{name}_FILE")) {
                Some(path) => std::fs::read_to_string(&path)
                    .map(|v| Some(v.trim().to_string()))
                    .map_err(|e| format!("{name}_FILE : fichier {path} illisible : {e}")),
                None => Ok(None),
            }
        };
        if let Some(v) = secret("PASSERELLE_DATABASE_URL")? {
            self.database_url = v;
        }
        if let Some(v) = env("PASSERELLE_ADDR") {
            self.addr = v;
        }
        for (name, slot) in [
            ("PASSERELLE_BASE_URL", &mut self.base_url),
            ("PASSERELLE_MAIL_FROM", &mut self.mail_from),
            ("PASSERELLE_OPERATOR", &mut self.operator),
            ("PASSERELLE_CONTACT_EMAIL", &mut self.contact_email),
            ("PASSERELLE_BAN_API_URL", &mut self.ban_api_url),
            ("PASSERELLE_PROCONNECT_ISSUER", &mut self.proconnect_issuer),
            (
                "PASSERELLE_PROCONNECT_CLIENT_ID",
                &mut self.proconnect_client_id,
            ),
        ] {
            if let Some(v) = env(name) {
                *slot = Some(v);
            }
        }
        if let Some(v) = secret("PASSERELLE_SECRET_KEY")? {
            self.secret_key = Some(v);
        }
        if let Some(v) = secret("PASSERELLE_SMTP_URL")? {
            self.smtp_url = Some(v);
        }
        if let Some(v) = secret("PASSERELLE_PROCONNECT_CLIENT_SECRET")? {
            self.proconnect_client_secret = Some(v);
        }
        if let Some(v) = secret("PASSERELLE_METRICS_TOKEN")? {
            self.metrics_token = Some(v);
        }
        if let Some(v) = env("PASSERELLE_SESSION_MAX_HOURS") {
            self.session_max_hours = v.trim().parse().map_err(|_| {
                format!("PASSERELLE_SESSION_MAX_HOURS doit être un nombre entier d'heures (reçu « {v} »)")
            })?;
        }
        if let Some(v) = env("PASSERELLE_SESSION_IDLE_MINUTES") {
            self.session_idle_minutes = v.trim().parse().map_err(|_| {
                format!("PASSERELLE_SESSION_IDLE_MINUTES doit être un nombre entier de minutes (reçu « {v} »)")
            })?;
        }
        if let Some(v) = env("PASSERELLE_GEOCODER") {
            self.geocoder = app::geocoding::GeocoderChoice::parse(&v).ok_or_else(|| {
                format!("PASSERELLE_GEOCODER vaut auto, ban-api ou offline (reçu « {v} »)")
            })?;
        }
        if let Some(v) = env("PASSERELLE_LOST_AFTER_DAYS") {
            self.lost_after_days = v.trim().parse().map_err(|_| {
                format!(
                    "PASSERELLE_LOST_AFTER_DAYS doit être un nombre entier de jours (reçu « {v} »)"
                )
            })?;
        }
        if let Some(v) = env("PASSERELLE_API_REQUESTS_PER_MINUTE") {
            self.api_requests_per_minute = v.trim().parse().map_err(|_| {
                format!("PASSERELLE_API_REQUESTS_PER_MINUTE doit être un nombre entier de requêtes (reçu « {v} »)")
            })?;
        }
        if let Some(v) = env("PASSERELLE_SECRECY_THRESHOLD") {
            self.secrecy_threshold = v.trim().parse().map_err(|_| {
                format!("PASSERELLE_SECRECY_THRESHOLD doit être un nombre entier de personnes (reçu « {v} »)")
            })?;
        }
        if let Some(v) = env("PASSERELLE_MAX_CONNECTIONS") {
            self.max_connections = v.trim().parse().map_err(|_| {
                format!("PASSERELLE_MAX_CONNECTIONS doit être un nombre entier (reçu « {v} »)")
            })?;
        }
        if let Some(v) = env("PASSERELLE_WEBHOOKS_PRIVATE_ADDRESSES") {
            self.webhooks_private_addresses =
                yes_or_no("PASSERELLE_WEBHOOKS_PRIVATE_ADDRESSES", &v)?;
        }
        if let Some(v) = env("PASSERELLE_TRUST_FORWARDED_FOR") {
            self.trust_forwarded_for = yes_or_no("PASSERELLE_TRUST_FORWARDED_FOR", &v)?;
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.addr.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!(
                "adresse d'écoute « {} » invalide : attendu une adresse IP et un port, par exemple 127.0.0.1:8080",
                self.addr
            ));
        }
        if let Some(url) = &self.base_url
            && (!(url.starts_with("http://") || url.starts_with("https://"))
                || url::Url::parse(url).is_err())
        {
            return Err(format!(
                "PASSERELLE_BASE_URL « {url} » invalide : attendu par exemple https://passerelle.exemple.fr"
            ));
        }
        if !(1..=24 * 60).contains(&self.session_idle_minutes) {
            return Err(
                "la durée d'inactivité d'une session doit être comprise entre 1 et 1 440 minutes"
                    .into(),
            );
        }
        if !(7..=730).contains(&self.lost_after_days) {
            return Err(
                "le délai avant « perdu de vue » doit être compris entre 7 et 730 jours".into(),
            );
        }
        if !(1..=100_000).contains(&self.api_requests_per_minute) {
            return Err(
                "le nombre de requêtes par minute d'un jeton d'API doit être compris entre 1 et 100 000"
                    .into(),
            );
        }
        if !(domain::secrecy::THRESHOLD..=100).contains(&self.secrecy_threshold) {
            return Err(format!(
                "le seuil du secret statistique doit être compris entre {} et 100 personnes",
                domain::secrecy::THRESHOLD
            ));
        }
        if !(1..=72).contains(&self.session_max_hours) {
            return Err(
                "la durée maximale d'une session doit être comprise entre 1 et 72 heures".into(),
            );
        }
        if let Some(token) = &self.metrics_token
            && token.trim().len() < 16
        {
            return Err("PASSERELLE_METRICS_TOKEN doit comporter au moins 16 caractères".into());
        }
        if self.max_connections == 0 {
            return Err("le nombre de connexions à la base de données doit être au moins 1".into());
        }
        if let Some(key) = &self.secret_key
            && key.len() < 32
        {
            return Err("PASSERELLE_SECRET_KEY doit comporter au moins 32 caractères".into());
        }
        self.validate_proconnect()
    }

    /// ProConnect's three settings go together, with the public address the provider sends
    /// the browser back to.
    fn validate_proconnect(&self) -> Result<(), String> {
        let given = [
            ("PASSERELLE_PROCONNECT_ISSUER", &self.proconnect_issuer),
            (
                "PASSERELLE_PROCONNECT_CLIENT_ID",
                &self.proconnect_client_id,
            ),
            (
                "PASSERELLE_PROCONNECT_CLIENT_SECRET",
                &self.proconnect_client_secret,
            ),
        ];
        let missing: Vec<&str> = given
            .iter()
            .filter(|(_, v)| v.as_deref().is_none_or(|v| v.trim().is_empty()))
            .map(|(name, _)| *name)
            .collect();
        if missing.len() == given.len() {
            return Ok(());
        }
        if !missing.is_empty() {
            return Err(format!(
                "la connexion avec ProConnect demande aussi {}",
                missing.join(" et ")
            ));
        }
        let issuer = self.proconnect_issuer.as_deref().unwrap_or_default();
        let local = url::Url::parse(issuer).ok().is_some_and(|u| {
            u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "localhost"))
        });
        if !(issuer.starts_with("https://") || local) || url::Url::parse(issuer).is_err() {
            return Err(format!(
                "PASSERELLE_PROCONNECT_ISSUER « {issuer} » invalide : attendu l'adresse HTTPS de l'émetteur, par exemple https://auth.agentconnect.gouv.fr/api/v2"
            ));
        }
        if self.base_url.is_none() {
            return Err("la connexion avec ProConnect demande PASSERELLE_BASE_URL : l'adresse publique du service, d'où est déduite l'adresse de retour déclarée auprès de ProConnect".into());
        }
        Ok(())
    }

    pub fn settings(&self, bound: std::net::SocketAddr) -> app::Settings {
        let defaults = app::Settings::default();
        app::Settings {
            base_url: self
                .base_url
                .clone()
                .unwrap_or_else(|| format!("http://{bound}"))
                .trim_end_matches('/')
                .to_string(),
            session_idle: Duration::from_secs(self.session_idle_minutes * 60),
            mail: app::MailSettings {
                smtp_url: self.smtp_url.clone(),
                from: self.mail_from.clone().unwrap_or(defaults.mail.from),
            },
            operator: self.operator.clone().unwrap_or(defaults.operator),
            contact_email: self.contact_email.clone().unwrap_or(defaults.contact_email),
            ban_api_url: self.ban_api_url.clone().unwrap_or(defaults.ban_api_url),
            geocoder: self.geocoder,
            lost_after_days: self.lost_after_days,
            secrecy_threshold: self.secrecy_threshold,
            api_requests_per_minute: self.api_requests_per_minute,
            webhooks_private_addresses: self.webhooks_private_addresses,
            metrics_token: self.metrics_token.clone(),
            session_max: Duration::from_secs(self.session_max_hours * 3600),
            proconnect: match (
                &self.proconnect_issuer,
                &self.proconnect_client_id,
                &self.proconnect_client_secret,
            ) {
                (Some(issuer), Some(id), Some(secret)) => {
                    Some(app::proconnect::ProConnectSettings {
                        issuer: issuer.trim().to_string(),
                        client_id: id.trim().to_string(),
                        client_secret: secret.trim().to_string(),
                    })
                }
                _ => None,
            },
            ..defaults
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_then_file_then_environment() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("p.toml");
        std::fs::write(
            &file,
            "database_url = \"sqlite://fichier.db\"\naddr = \"127.0.0.1:9000\"\n",
        )
        .expect("write");
        let config = Config::load(Some(&file), &env(&[("PASSERELLE_ADDR", "127.0.0.1:9100")]))
            .expect("valid");
        assert_eq!(config.database_url, "sqlite://fichier.db");
        assert_eq!(config.addr, "127.0.0.1:9100");
        let defaults = Config::load(None, &env(&[])).expect("defaults");
        assert_eq!(defaults.database_url, DEFAULT_DATABASE_URL);
    }

    #[test]
    fn proconnect_needs_its_three_settings_and_the_public_address() {
        let err = Config::load(
            None,
            &env(&[(
                "PASSERELLE_PROCONNECT_ISSUER",
                "https://auth.exemple.gouv.fr/api/v2",
            )]),
        )
        .expect_err("incomplete");
        assert!(
            err.contains("PASSERELLE_PROCONNECT_CLIENT_ID et PASSERELLE_PROCONNECT_CLIENT_SECRET"),
            "{err}"
        );
        let complete = [
            (
                "PASSERELLE_PROCONNECT_ISSUER",
                "http://idp.exemple.fr/api/v2",
            ),
            ("PASSERELLE_PROCONNECT_CLIENT_ID", "passerelle"),
            ("PASSERELLE_PROCONNECT_CLIENT_SECRET", "s3cr3t-du-client"),
        ];
        let err = Config::load(None, &env(&complete)).expect_err("plain http");
        assert!(err.contains("adresse HTTPS de l'émetteur"), "{err}");
        let mut vars = complete.to_vec();
        vars[0].1 = "https://idp.exemple.fr/api/v2";
        let err = Config::load(None, &env(&vars)).expect_err("no base url");
        assert!(err.contains("PASSERELLE_BASE_URL"), "{err}");
        vars.push(("PASSERELLE_BASE_URL", "https://passerelle.exemple.fr"));
        let config = Config::load(None, &env(&vars)).expect("complete");
        let settings = config.settings("127.0.0.1:8080".parse().expect("addr"));
        let proconnect = settings.proconnect.expect("configured");
        assert_eq!(proconnect.client_id, "passerelle");
        assert!(
            !format!("{proconnect:?}").contains("s3cr3t"),
            "the secret stays out of logs"
        );
    }

    #[test]
    fn mistakes_are_reported_in_french_with_the_setting_or_line() {
        let err = Config::load(
            None,
            &env(&[("PASSERELLE_SESSION_IDLE_MINUTES", "deux heures")]),
        )
        .expect_err("bad number");
        assert!(
            err.contains("PASSERELLE_SESSION_IDLE_MINUTES") && err.contains("deux heures"),
            "{err}"
        );
        // The secrecy threshold may be raised, never lowered under 5.
        let config =
            Config::load(None, &env(&[("PASSERELLE_SECRECY_THRESHOLD", "11")])).expect("raised");
        assert_eq!(config.secrecy_threshold, 11);
        let err = Config::load(None, &env(&[("PASSERELLE_SECRECY_THRESHOLD", "3")]))
            .expect_err("lowered");
        assert!(
            err.contains("secret statistique") && err.contains("entre 5 et 100"),
            "{err}"
        );
        let err =
            Config::load(None, &env(&[("PASSERELLE_ADDR", "localhost")])).expect_err("bad addr");
        assert!(err.contains("adresse d'écoute"), "{err}");
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("p.toml");
        std::fs::write(&file, "addr = \"127.0.0.1:1\"\nport = 3\n").expect("write");
        let err = Config::load(Some(&file), &env(&[])).expect_err("unknown key");
        assert!(
            err.contains("incorrect") && err.contains("ligne 2"),
            "{err}"
        );
    }

    #[test]
    fn a_secret_can_come_from_a_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "0123456789abcdef0123456789abcdef\n").expect("write");
        let path = secret.display().to_string();
        let config =
            Config::load(None, &env(&[("PASSERELLE_SECRET_KEY_FILE", &path)])).expect("valid");
        assert_eq!(
            config.secret_key.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
    }

    #[test]
    fn the_metrics_token_and_the_session_lifetime_are_read_and_checked() {
        let dir = tempfile::tempdir().expect("tmp");
        let token = dir.path().join("token");
        std::fs::write(&token, "un-jeton-de-supervision\n").expect("write");
        let path = token.display().to_string();
        let config = Config::load(
            None,
            &env(&[
                ("PASSERELLE_METRICS_TOKEN_FILE", &path),
                ("PASSERELLE_SESSION_MAX_HOURS", "8"),
            ]),
        )
        .expect("valid");
        assert_eq!(
            config.metrics_token.as_deref(),
            Some("un-jeton-de-supervision")
        );
        let settings = config.settings("127.0.0.1:1".parse().expect("addr"));
        assert_eq!(settings.session_max, Duration::from_secs(8 * 3600));
        let err =
            Config::load(None, &env(&[("PASSERELLE_METRICS_TOKEN", "court")])).expect_err("short");
        assert!(err.contains("16 caractères"), "{err}");
        let err =
            Config::load(None, &env(&[("PASSERELLE_SESSION_MAX_HOURS", "0")])).expect_err("zero");
        assert!(err.contains("entre 1 et 72 heures"), "{err}");
    }
}
