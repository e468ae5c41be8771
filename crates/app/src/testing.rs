//! Test fixtures: an application over a fresh database with one territory, two partner
//! organisations and one account per role.

use domain::{
    Email, InseeCode, OrganisationId, OrganisationKind, Role, Slug, TerritoryId, TerritoryStatus,
    UserId,
};
use store::memberships::NewMembership;
use store::organisations::OrganisationData;
use store::territories::TerritoryData;
use store::testing::TestDb;

use crate::secrets::SecretKey;
use crate::{App, Caller, Settings};

pub const PASSWORD: &str = "mot de passe de test";

/// A clock that stands still until a test moves it.
#[derive(Clone)]
pub struct ManualClock(std::sync::Arc<std::sync::Mutex<chrono::DateTime<chrono::Utc>>>);

impl ManualClock {
    pub fn set(&self, at: chrono::DateTime<chrono::Utc>) {
        if let Ok(mut now) = self.0.lock() {
            *now = at;
        }
    }

    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

/// Declares each test twice, on SQLite and on PostgreSQL, each with its own [`Fixture`];
/// `offline;` first gives the fixture of [`Fixture::offline`].
#[macro_export]
macro_rules! fixture_tests {
    (offline; $($rest:tt)*) => {
        $crate::fixture_tests!(@with offline; $($rest)*);
    };
    (@with $make:ident; $(async fn $name:ident($f:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $f = $crate::testing::Fixture::$make(store::Backend::Sqlite).await;
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let $f = $crate::testing::Fixture::$make(store::Backend::Postgres).await;
                $body
            }
        }
    )*};
    ($($rest:tt)*) => {
        $crate::fixture_tests!(@with new; $($rest)*);
    };
}

pub struct Fixture {
    pub app: App,
    pub clock: ManualClock,
    pub test_db: TestDb,
    pub territory: TerritoryId,
    pub other_territory: TerritoryId,
    pub france_travail: OrganisationId,
    pub mission_locale: OrganisationId,
    pub admin: UserId,
    pub coordinator: UserId,
    pub professional: UserId,
    pub pilot: UserId,
    pub outsider: UserId,
}

impl Fixture {
    pub async fn new(backend: store::Backend) -> Fixture {
        Fixture::with_settings(backend, Settings::default()).await
    }

    /// A fixture whose BAN API is a closed port on 127.0.0.1: an address check fails at once,
    /// as offline, instead of waiting for a network the tests must not depend on.
    pub async fn offline(backend: store::Backend) -> Fixture {
        Fixture::with_settings(
            backend,
            Settings {
                ban_api_url: "http://127.0.0.1:9".into(),
                ..Settings::default()
            },
        )
        .await
    }

    pub async fn with_settings(backend: store::Backend, settings: Settings) -> Fixture {
        let test_db = TestDb::new(backend).await;
        let db = test_db.db.clone();
        let secret =
            SecretKey::from_text("test-secret-test-secret-test-secret").expect("valid key");
        let mut app = App::new(db.clone(), settings, Some(secret))
            .await
            .expect("app");
        let clock = ManualClock(std::sync::Arc::new(std::sync::Mutex::new(store::now())));
        let shared = clock.clone();
        app.clock = std::sync::Arc::new(move || {
            shared.0.lock().map(|t| *t).unwrap_or_else(|_| store::now())
        });
        let now = app.now();
        let hash = crate::secrets::hash_password(PASSWORD).await.expect("hash");
        let mut tx = db.begin().await.expect("tx");
        let mut c = tx.conn();
        let territory = |slug: &str, name: &str, commune: &str| TerritoryData {
            slug: Slug::parse(slug).expect("slug"),
            name: name.into(),
            status: TerritoryStatus::Active,
            epci: None,
            co_pilots: String::new(),
            starts_on: None,
            ends_on: None,
            communes: vec![InseeCode::parse(commune).expect("insee")],
            time_zone: domain::TimeZone::Paris,
        };
        let t1 = store::territories::create(
            &mut c,
            &territory("maubeuge", "Cité de Maubeuge", "59392"),
            now,
        )
        .await
        .expect("t1");
        let t2 = store::territories::create(
            &mut c,
            &territory("roubaix", "Cité de Roubaix", "59512"),
            now,
        )
        .await
        .expect("t2");
        let org = |name: &str, kind| OrganisationData {
            name: name.into(),
            kind,
            siret: None,
            address: String::new(),
            postal_code: "59600".into(),
            commune_insee: InseeCode::parse("59392").expect("insee"),
        };
        let ft = store::organisations::create(
            &mut c,
            &org("France Travail Maubeuge", OrganisationKind::FranceTravail),
            now,
        )
        .await
        .expect("ft");
        let ml = store::organisations::create(
            &mut c,
            &org("Mission locale Roubaix", OrganisationKind::MissionLocale),
            now,
        )
        .await
        .expect("ml");
        store::territories::add_partner(&mut c, t1, ft, None, now)
            .await
            .expect("partner");
        store::territories::add_partner(&mut c, t2, ml, None, now)
            .await
            .expect("partner");
        let mut user = async |email: &str,
                              role: Role,
                              organisation: Option<OrganisationId>,
                              territory: Option<TerritoryId>| {
            let id = store::users::create(
                &mut c,
                &Email::parse(email).expect("email"),
                email,
                Some(&hash),
                now,
            )
            .await
            .expect("user");
            let m = NewMembership {
                user: id,
                role,
                organisation,
                territory,
                created_by: None,
            };
            store::memberships::create(&mut c, &m, now)
                .await
                .expect("membership");
            id
        };
        let admin = user("admin@test.fr", Role::Admin, None, None).await;
        let coordinator = user("coordination@test.fr", Role::Coordinator, None, Some(t1)).await;
        let professional = user("conseil@test.fr", Role::Professional, Some(ft), None).await;
        let pilot = user("pilote@test.fr", Role::Pilot, None, Some(t1)).await;
        let outsider = user("ailleurs@test.fr", Role::Professional, Some(ml), None).await;
        tx.commit().await.expect("commit");
        Fixture {
            app,
            clock,
            test_db,
            territory: t1,
            other_territory: t2,
            france_travail: ft,
            mission_locale: ml,
            admin,
            coordinator,
            professional,
            pilot,
            outsider,
        }
    }

    /// The messages in the outbox, most recent first.
    pub async fn outbox(&self) -> Vec<store::outbox::Mail> {
        let mut pooled = self.app.db.acquire().await.expect("connection");
        store::outbox::recent(&mut pooled.conn(), 100)
            .await
            .expect("outbox")
    }

    /// Another professional of an existing organisation, logged in.
    pub async fn caller_in_organisation(&self, email: &str, org: OrganisationId) -> Caller {
        let hash = crate::secrets::hash_password(PASSWORD).await.expect("hash");
        let mut tx = self.app.db.begin().await.expect("tx");
        let user = store::users::create(
            &mut tx.conn(),
            &Email::parse(email).expect("email"),
            email,
            Some(&hash),
            self.app.now(),
        )
        .await
        .expect("user");
        let m = NewMembership {
            user,
            role: Role::Professional,
            organisation: Some(org),
            territory: None,
            created_by: None,
        };
        store::memberships::create(&mut tx.conn(), &m, self.app.now())
            .await
            .expect("membership");
        tx.commit().await.expect("commit");
        self.caller(email).await
    }

    /// A professional of a new organisation that takes part in a territory, logged in.
    pub async fn caller_in_new_organisation(&self, email: &str, territory: TerritoryId) -> Caller {
        let now = self.app.now();
        let hash = crate::secrets::hash_password(PASSWORD).await.expect("hash");
        let mut tx = self.app.db.begin().await.expect("tx");
        let org = store::organisations::create(
            &mut tx.conn(),
            &OrganisationData {
                name: format!("Structure de {email}"),
                kind: OrganisationKind::Association,
                siret: None,
                address: String::new(),
                postal_code: "59600".into(),
                commune_insee: InseeCode::parse("59392").expect("insee"),
            },
            now,
        )
        .await
        .expect("organisation");
        store::territories::add_partner(&mut tx.conn(), territory, org, None, now)
            .await
            .expect("partner");
        let user = store::users::create(
            &mut tx.conn(),
            &Email::parse(email).expect("email"),
            email,
            Some(&hash),
            now,
        )
        .await
        .expect("user");
        let m = NewMembership {
            user,
            role: Role::Professional,
            organisation: Some(org),
            territory: None,
            created_by: None,
        };
        store::memberships::create(&mut tx.conn(), &m, now)
            .await
            .expect("membership");
        tx.commit().await.expect("commit");
        self.caller(email).await
    }

    /// A person found by `sender` (telephone `phone`), entered in accompaniment with a consent
    /// to share with France Travail and `shared`.
    pub async fn accompanied_person(
        &self,
        sender: &Caller,
        shared: &[OrganisationId],
        (first, last, phone): (&str, &str, &str),
    ) -> domain::PersonId {
        use crate::persons::{self, EntryInput, OutreachInput, Recorded};
        let day = |days: i64| {
            domain::iso_date(
                domain::calendar::france_date(self.app.now()) + chrono::Duration::days(days),
            )
        };
        let input = OutreachInput {
            first_name: first.into(),
            last_name: last.into(),
            phone: phone.into(),
            channel: "pied-d-immeuble".into(),
            met_on: day(-20),
            postal_code: "59600".into(),
            commune: "Maubeuge".into(),
            agrees_recontact: "oui".into(),
            ..OutreachInput::default()
        };
        let Recorded::Created(id) = persons::record(&self.app, sender, &input)
            .await
            .expect("recorded")
        else {
            panic!("recorded as a duplicate")
        };
        let mut organisations = vec![self.france_travail.0.to_string()];
        organisations.extend(shared.iter().map(|o| o.0.to_string()));
        persons::enter_accompaniment(
            &self.app,
            sender,
            id,
            &EntryInput {
                given_on: day(-10),
                method: "ecrit".into(),
                purposes: vec!["accompagnement".into(), "partage".into()],
                organisations,
                referent: String::new(),
                situation: Default::default(),
            },
        )
        .await
        .expect("entered");
        id
    }

    /// Logs in through the real use case and loads the caller as a request would.
    pub async fn caller(&self, email: &str) -> Caller {
        let login = crate::auth::login(&self.app, email, PASSWORD, "127.0.0.1")
            .await
            .expect("login");
        crate::caller::load(&self.app, &login.token)
            .await
            .expect("load")
            .expect("session")
    }
}

/// The token of a one-time link (`/invitation/…`, `/mot-de-passe/…`) in a mail's body.
pub fn link_token(body: &str, path: &str) -> String {
    let start = body.find(path).expect("link in the mail") + path.len();
    body[start..]
        .split_whitespace()
        .next()
        .expect("token")
        .to_string()
}

/// Reads one HTTP/1.1 request from a test server's socket: its head (request line and headers,
/// without the blank line) and as much body as `Content-Length` announces.
pub(crate) async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(p) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..header_end - 4]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < header_end + length {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    Some((head, buffer[header_end..].to_vec()))
}

/// A local stand-in for the BAN API: HTTP/1.1 on 127.0.0.1, answering `/search/?q=…&limit=1`
/// with the real API's GeoJSON shape. Known queries: an address containing « Maubeuge » falls
/// inside the demo QPV « Les Tilleuls »; « Parc » falls in that QPV's hole (outside, ~107 m from
/// it); « panne » answers 503; anything else finds nothing. Returns the base URL.
pub async fn fake_ban_api() -> String {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Some((head, body)) = read_request(&mut socket).await else {
                    return;
                };
                if head.starts_with("POST /search/csv/") {
                    let (status, csv) = ban_csv_answer(&head, &body);
                    let response = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: text/csv; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{csv}",
                        csv.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    return;
                }
                let request = head;
                let target = request.split_whitespace().nth(1).unwrap_or("/");
                let query: String = target
                    .split_once('?')
                    .map(|(_, q)| q)
                    .unwrap_or("")
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .find(|(k, _)| *k == "q")
                    .map(|(_, v)| url_decode(v))
                    .unwrap_or_default();
                let (status, body) = ban_answer(target, &query);
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    base
}

fn url_decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The bulk endpoint: reads the multipart `data` CSV and appends the result columns.
fn ban_csv_answer(head: &str, body: &[u8]) -> (&'static str, String) {
    let boundary = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("content-type:")
                .then(|| {
                    l.split("boundary=")
                        .nth(1)
                        .map(|b| b.trim().trim_matches('"').to_string())
                })
        })
        .flatten();
    let Some(boundary) = boundary else {
        return ("400 Bad Request", "multipart attendu".into());
    };
    let text = String::from_utf8_lossy(body);
    let Some(part) = text
        .split(&format!("--{boundary}"))
        .find(|p| p.contains("name=\"data\""))
    else {
        return ("400 Bad Request", "fichier data absent".into());
    };
    let csv = part
        .split_once("\r\n\r\n")
        .map(|(_, c)| c.trim_end_matches("\r\n"))
        .unwrap_or("");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = reader
        .headers()
        .map(|h| h.iter().map(str::to_string).collect())
        .unwrap_or_default();
    let address_column = header.iter().position(|h| h == "adresse").unwrap_or(0);
    header.extend(
        [
            "latitude",
            "longitude",
            "result_label",
            "result_score",
            "result_type",
            "result_citycode",
            "result_postcode",
        ]
        .map(String::from),
    );
    let _ = writer.write_record(&header);
    for record in reader.records().map_while(Result::ok) {
        let query = record.get(address_column).unwrap_or("");
        if query.contains("panne") {
            return ("503 Service Unavailable", String::new());
        }
        let mut row: Vec<String> = record.iter().map(str::to_string).collect();
        let (_, json) = ban_answer("/search/", query);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        match value.pointer("/features/0") {
            Some(f) => {
                let p = &f["properties"];
                row.extend([
                    f.pointer("/geometry/coordinates/1")
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                    f.pointer("/geometry/coordinates/0")
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                    p["label"].as_str().unwrap_or("").to_string(),
                    p["score"].to_string(),
                    p["type"].as_str().unwrap_or("").to_string(),
                    p["citycode"].as_str().unwrap_or("").to_string(),
                    p["postcode"].as_str().unwrap_or("").to_string(),
                ]);
            }
            None => row.extend(std::iter::repeat_n(String::new(), 7)),
        }
        let _ = writer.write_record(&row);
    }
    (
        "200 OK",
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default(),
    )
}

fn ban_answer(target: &str, query: &str) -> (&'static str, String) {
    if !target.starts_with("/search/") {
        return ("404 Not Found", "{}".into());
    }
    if query.contains("panne") {
        return ("503 Service Unavailable", "{}".into());
    }
    let feature = |lon: f64, lat: f64, label: &str, kind: &str, score: f64| {
        serde_json::json!({
            "type": "Feature",
            "geometry": { "type": "Point", "coordinates": [lon, lat] },
            "properties": { "label": label, "score": score, "type": kind, "postcode": "59600", "citycode": "59392", "city": "Maubeuge", "id": "59392_fake", "name": label }
        })
    };
    let features = if query.contains("Parc") {
        vec![feature(
            3.9655,
            50.275,
            "1 Allée du Parc 59600 Maubeuge",
            "housenumber",
            0.91,
        )]
    } else if query.contains("Maubeuge") {
        vec![feature(
            3.962,
            50.272,
            "12 Rue de la Démonstration 59600 Maubeuge",
            "housenumber",
            0.93,
        )]
    } else {
        Vec::new()
    };
    ("200 OK", serde_json::json!({ "type": "FeatureCollection", "version": "draft", "features": features, "query": query }).to_string())
}

/// One request a [`webhook_receiver`] received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A partner's system receiving webhooks: HTTP/1.1 on 127.0.0.1, answering each request with the
/// next status of `statuses` (then 200) and keeping what it received. Returns its URL.
pub async fn webhook_receiver(
    statuses: Vec<u16>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Received>>>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/evenements", listener.local_addr().expect("addr"));
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = received.clone();
    tokio::spawn(async move {
        let mut statuses = statuses.into_iter();
        while let Ok((mut socket, _)) = listener.accept().await {
            let Some((head, body)) = read_request(&mut socket).await else {
                continue;
            };
            let headers = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            let body = String::from_utf8_lossy(&body).to_string();
            if let Ok(mut all) = kept.lock() {
                all.push(Received { headers, body });
            }
            let status = statuses.next().unwrap_or(200);
            let answer = format!(
                "HTTP/1.1 {status} Statut\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (url, received)
}
