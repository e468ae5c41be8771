//! The second factor through the router, like a browser (cookies, CSRF tokens, redirects), on
//! both backends: enrolling from the account page, the code after the password, a pending
//! session that reaches nothing else, and a territory that requires it of its coordinators.

use app::testing::{Fixture, PASSWORD};
use app::totp;
use axum::http::StatusCode;

mod client;
use client::{Client, Page};

/// The key shown on the enrolment page, as the app would read it.
fn secret_on(page: &Page) -> Vec<u8> {
    let start = page
        .body
        .find("passerelle-secret\">")
        .expect("the key is shown")
        + "passerelle-secret\">".len();
    let end = start + page.body[start..].find('<').expect("end of the key");
    totp::decode_base32(&page.body[start..end]).expect("base 32")
}

fn code(f: &Fixture, secret: &[u8]) -> String {
    format!("{:06}", totp::code_at(secret, f.app.now()))
}

/// The row of the team's table that names this address.
fn team_row(page: &Page, email: &str) -> String {
    page.body
        .split("<tr>")
        .find(|row| row.contains(&format!("<td>{email}</td>")))
        .and_then(|row| {
            row.split_once("</tr>")
                .map(|(r, _)| format!("<tr>{r}</tr>"))
        })
        .expect("a row for this address")
}

fn recovery_codes_on(page: &Page) -> Vec<String> {
    page.body
        .split("<li><code>")
        .skip(1)
        .filter_map(|s| s.split_once("</code>").map(|(c, _)| c.to_string()))
        .collect()
}

/// Enrols the logged-in client's account from its security page; returns the secret and the
/// recovery codes, and moves the clock past the step whose code was used.
async fn enrol(f: &Fixture, client: &mut Client) -> (Vec<u8>, Vec<String>) {
    let page = client.get("/compte/securite/activation").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<svg aria-hidden=\"true\""),
        "the QR code is drawn inline"
    );
    let secret = secret_on(&page);
    let csrf = page.csrf();
    let wrong = client
        .post(
            "/compte/securite/activation",
            &[("csrf_token", &csrf), ("code", "12")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains("n&#39;a pas le bon format")
            || wrong.body.contains("n'a pas le bon format"),
        "the French reason at the field"
    );
    assert_eq!(secret_on(&wrong), secret, "the same key after an error");
    let codes = client
        .post(
            "/compte/securite/activation",
            &[("csrf_token", &csrf), ("code", &code(f, &secret))],
        )
        .await;
    assert_eq!(codes.status, StatusCode::OK);
    let recovery = recovery_codes_on(&codes);
    assert_eq!(recovery.len(), 10, "{}", codes.body);
    f.clock
        .advance(chrono::Duration::seconds(totp::STEP_SECONDS));
    (secret, recovery)
}

app::fixture_tests! {
    async fn a_professional_enrols_then_signs_in_with_the_code_of_the_app(f) {
        let mut client = Client::new(&f);
        client.login("conseil@test.fr", PASSWORD).await;
        let security = client.get("/compte/securite").await;
        assert!(security.body.contains("Non activée"));
        let (secret, _) = enrol(&f, &mut client).await;
        // The session that enrolled goes on (its cookie was replaced with the codes page).
        let security = client.get("/compte/securite").await;
        assert_eq!(security.status, StatusCode::OK);
        assert!(security.body.contains("Activée") && security.body.contains("<strong>10</strong> sur 10"), "{}", security.body);

        // Next login: the password leads to the code, and nothing else opens before it.
        let mut client = Client::new(&f);
        let login = client.login("conseil@test.fr", PASSWORD).await;
        assert_eq!(login.location.as_deref(), Some("/connexion/code?suite=%2F"));
        for path in ["/", "/personnes", "/compte/securite"] {
            let page = client.get(path).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
            assert!(page.location.as_deref().is_some_and(|l| l.starts_with("/connexion/code?suite=")), "{path}: {:?}", page.location);
        }
        let api = client.get("/api/v1/qpv/lookup?lon=3.97&lat=50.27").await;
        assert_eq!(api.status, StatusCode::UNAUTHORIZED, "nor the API");
        let form = client.get("/connexion/code?suite=%2Fpersonnes").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        let wrong = client.post("/connexion/code", &[("csrf_token", &csrf), ("code", &format!("{:06}", (totp::code_at(&secret, f.app.now()) + 1) % 1_000_000)), ("suite", "/personnes")]).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.body.contains("Ce code est incorrect"));
        let pending_cookie = client.cookies.get("passerelle_session").cloned().expect("pending cookie");
        let done = client.post("/connexion/code", &[("csrf_token", &csrf), ("code", &code(&f, &secret)), ("suite", "/personnes")]).await;
        assert_eq!(done.location.as_deref(), Some("/personnes"));
        assert_ne!(client.cookies.get("passerelle_session"), Some(&pending_cookie), "a new token once the code is right");
        assert_eq!(client.get("/").await.status, StatusCode::OK);
        // The pending token is worth nothing afterwards.
        let mut thief = Client::new(&f);
        thief.cookies.insert("passerelle_session".into(), pending_cookie);
        assert_eq!(thief.get("/").await.location.as_deref(), Some("/connexion?suite=%2F"));
    }

    async fn a_recovery_code_signs_in_once_and_lands_on_the_security_page(f) {
        let mut client = Client::new(&f);
        client.login("conseil@test.fr", PASSWORD).await;
        let (_, recovery) = enrol(&f, &mut client).await;
        let mut client = Client::new(&f);
        client.login("conseil@test.fr", PASSWORD).await;
        let csrf = client.get("/connexion/code").await.csrf();
        let done = client.post("/connexion/code", &[("csrf_token", &csrf), ("code", &recovery[0]), ("suite", "/")]).await;
        assert_eq!(done.location.as_deref(), Some("/compte/securite?message=code-de-secours-utilise"));
        let security = client.get("/compte/securite?message=code-de-secours-utilise").await;
        assert!(security.body.contains("ne servira plus") && security.body.contains("<strong>9</strong> sur 10"));
        // Giving up at the code page ends the pending session.
        let mut other = Client::new(&f);
        other.login("conseil@test.fr", PASSWORD).await;
        let csrf = other.get("/connexion/code").await.csrf();
        let out = other.post("/deconnexion", &[("csrf_token", &csrf)]).await;
        assert_eq!(out.location.as_deref(), Some("/connexion?message=deconnecte"));
        assert_eq!(other.get("/connexion/code").await.location.as_deref(), Some("/connexion"));
    }

    async fn a_territory_that_requires_it_sends_its_coordinator_to_enrol_at_the_next_page(f) {
        let mut admin = Client::new(&f);
        admin.login("admin@test.fr", PASSWORD).await;
        let mut coordinator = Client::new(&f);
        coordinator.login("coordination@test.fr", PASSWORD).await;
        // The coordinator cannot require it before having it.
        let territory = coordinator.get("/territoires/maubeuge").await;
        assert!(territory.body.contains("Sécurité des comptes"));
        let refused = coordinator.post("/territoires/maubeuge/double-authentification", &[("csrf_token", &territory.csrf()), ("second_factor_required", "oui")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("Activez d&#39;abord") || refused.body.contains("Activez d'abord"));
        // The administrator requires it: the coordinator's next page is the enrolment.
        let page = admin.get("/territoires/maubeuge").await;
        let set = admin.post("/territoires/maubeuge/double-authentification", &[("csrf_token", &page.csrf()), ("second_factor_required", "oui")]).await;
        assert_eq!(set.location.as_deref(), Some("/territoires/maubeuge?message=double-authentification-obligatoire#securite"));
        let team = admin.get("/territoires/maubeuge").await;
        assert!(team_row(&team, "coordination@test.fr").ends_with("<td>non</td></tr>"), "the team's table says who has none yet");
        let next = coordinator.get("/personnes").await;
        assert_eq!(next.location.as_deref(), Some("/connexion/activation?suite=%2Fpersonnes"));
        let enrolment = coordinator.get("/connexion/activation?suite=%2Fpersonnes").await;
        assert_eq!(enrolment.status, StatusCode::OK);
        assert!(enrolment.body.contains("Exigée par votre territoire"));
        let secret = secret_on(&enrolment);
        let codes = coordinator.post("/connexion/activation", &[("csrf_token", &enrolment.csrf()), ("code", &code(&f, &secret)), ("suite", "/personnes")]).await;
        assert_eq!(codes.status, StatusCode::OK);
        assert_eq!(recovery_codes_on(&codes).len(), 10);
        assert!(codes.body.contains("href=\"/personnes\""), "then on to the page asked for");
        assert_eq!(coordinator.get("/personnes").await.status, StatusCode::OK);
        assert!(team_row(&admin.get("/territoires/maubeuge").await, "coordination@test.fr").ends_with("<td>activée</td></tr>"));
        // While required, the security page offers no way to turn it off.
        let security = coordinator.get("/compte/securite").await;
        assert!(security.body.contains("l&#39;exige") || security.body.contains("l'exige"));
        assert!(!security.body.contains("/compte/securite/desactivation"));
        // The professional of the territory is not concerned.
        let mut professional = Client::new(&f);
        assert_eq!(professional.login("conseil@test.fr", PASSWORD).await.location.as_deref(), Some("/"));
    }
}
