//! Passerelle's use cases and their authorization: "who may do what to which record".
//! Every use case takes the [`Caller`] and refuses what the caller may not do; list queries
//! are scoped to the caller. No HTTP types here, no SQL either (that is `store`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use store::Db;
use territory::Referential;

pub mod actions;
pub mod api_tokens;
pub mod auth;
pub mod caller;
pub mod cohorts;
pub mod demo;
pub mod demo_directory;
mod demo_governance;
pub mod demo_persons;
pub mod diagnostic;
pub mod directory;
pub mod directory_file;
pub mod employers;
pub mod error;
pub mod exits;
#[cfg(any(test, feature = "test-support"))]
pub mod fake_proconnect;
pub mod faults;
pub mod form;
pub mod fuzzing;
pub mod geocoding;
pub mod governance;
pub mod home;
pub mod indicators;
pub mod jobs;
pub mod knowledge;
pub mod mail;
pub mod organisations;
pub mod orientations;
pub mod oversight;
pub mod persons;
pub mod proconnect;
pub mod qpv;
pub mod qpv_file;
pub mod retention;
pub mod schema;
pub mod second_factor;
pub mod secrets;
pub mod spreadsheet;
pub mod team;
pub mod territories;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod totp;
pub mod webhooks;

pub use caller::Caller;
pub use error::AppError;
pub use form::FieldErrors;
pub use mail::MailSettings;

/// Where the time comes from: the system clock, or a fixed one in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(store::now)
}

/// Settings the use cases depend on.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public address of the service, used in the links of e-mails (no trailing slash).
    pub base_url: String,
    /// A session ends after this long without activity.
    pub session_idle: Duration,
    pub mail: MailSettings,
    /// Who runs this instance (publisher and data controller on the legal pages).
    pub operator: String,
    /// Where users write about their data and the service.
    pub contact_email: String,
    /// The BAN API's address (`/search/` is appended).
    pub ban_api_url: String,
    pub geocoder: geocoding::GeocoderChoice,
    /// A person without contact for this many days is « perdu de vue ».
    pub lost_after_days: u32,
    /// Bearer token for `/metrics`; without one, only loopback clients read it.
    pub metrics_token: Option<String>,
    /// A session ends this long after login, however active (beside the idle timeout).
    pub session_max: Duration,
    /// Uploaded files parsed at the same time (each may hold up to a few hundred MB).
    pub concurrent_uploads: usize,
    /// How long an upload waits for its turn before the user is asked to come back.
    pub upload_wait: Duration,
    /// Published counts of 1 to this minus one people are masked (docs/domain.md §5).
    pub secrecy_threshold: i64,
    /// Requests per minute one API token may make (docs/security.md, « Jetons d'API »).
    pub api_requests_per_minute: u32,
    /// Webhooks may go to this machine and to private networks (an intranet), in plain HTTP
    /// too; by default only public HTTPS addresses receive them.
    pub webhooks_private_addresses: bool,
    /// Sign-in with ProConnect, when the service is registered with it.
    pub proconnect: Option<proconnect::ProConnectSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            base_url: "http://127.0.0.1:8080".into(),
            session_idle: Duration::from_secs(2 * 3600),
            mail: MailSettings::default(),
            operator: "l'opérateur de cette instance de Passerelle".into(),
            contact_email: "contact@passerelle.localhost".into(),
            ban_api_url: "https://api-adresse.data.gouv.fr".into(),
            geocoder: geocoding::GeocoderChoice::Auto,
            lost_after_days: 90,
            metrics_token: None,
            session_max: Duration::from_secs(12 * 3600),
            concurrent_uploads: 2,
            upload_wait: Duration::from_secs(10),
            secrecy_threshold: domain::secrecy::THRESHOLD,
            api_requests_per_minute: api_tokens::DEFAULT_REQUESTS_PER_MINUTE,
            webhooks_private_addresses: false,
            proconnect: None,
        }
    }
}

/// The application: database, clock, secrets and settings. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub clock: Clock,
    pub settings: Arc<Settings>,
    pub secret: Arc<secrets::SecretKey>,
    pub referential: &'static Referential,
    /// The QPV index every request reads; rebuilt after imports.
    pub qpv: Arc<qpv::QpvState>,
    pub geocoder: Arc<geocoding::Geocoder>,
    /// Turns to parse an uploaded file: bounds the memory several heavy uploads may take.
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// The identity provider, when sign-in with ProConnect is configured.
    pub proconnect: Option<Arc<proconnect::ProConnect>>,
}

impl App {
    /// Builds the application over a migrated database; the signing secret is read from the
    /// settings table (created on first start and shared by every instance) unless given.
    pub async fn new(
        db: Db,
        settings: Settings,
        secret: Option<secrets::SecretKey>,
    ) -> Result<App, AppError> {
        let secret = match secret {
            Some(s) => s,
            None => secrets::SecretKey::load_or_create(&db).await?,
        };
        let geocoder =
            territory::geocoder::BanApi::new(&settings.ban_api_url).map_err(AppError::Internal)?;
        let geocoder = geocoding::Geocoder::new(settings.geocoder, geocoder);
        let uploads = Arc::new(tokio::sync::Semaphore::new(
            settings.concurrent_uploads.max(1),
        ));
        let proconnect = match &settings.proconnect {
            Some(p) => Some(Arc::new(
                proconnect::ProConnect::new(p.clone(), &settings.base_url)
                    .map_err(AppError::Internal)?,
            )),
            None => None,
        };
        let app = App {
            proconnect,
            geocoder: Arc::new(geocoder),
            db,
            clock: system_clock(),
            settings: Arc::new(settings),
            secret: Arc::new(secret),
            referential: Referential::official(),
            qpv: Arc::new(qpv::QpvState::default()),
            uploads,
        };
        qpv::reload(&app).await?;
        geocoding::reload(&app).await?;
        Ok(app)
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Today on a calendar in France: the date users type and read.
    /// Today in a territory's zone.
    pub fn today_in(&self, zone: domain::TimeZone) -> chrono::NaiveDate {
        zone.date(self.now())
    }

    /// Today in metropolitan France (pages that belong to no territory).
    pub fn today(&self) -> chrono::NaiveDate {
        domain::calendar::france_date(self.now())
    }
}

/// The read models the use cases return, for the layers above.
pub mod models {
    pub use store::actions::ActionRow;
    pub use store::audit::Event;
    pub use store::directory::SpecificOffer;
    pub use store::governance::{ActionItemRow, DecisionRow, MeetingRow, RoadmapRow};
    pub use store::home::WeekCounts;
    pub use store::jobs::Job;
    pub use store::knowledge::Action;
    pub use store::memberships::{Membership, TeamMember};
    pub use store::organisations::Organisation;
    pub use store::outbox::Mail;
    pub use store::persons::{CaseloadRow, Consent, Entry, Health, Member, Needs, Person};
    pub use store::territories::Territory;
    pub use store::tokens::Invitation;
    pub use store::users::User;
}
