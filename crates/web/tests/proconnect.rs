//! Sign-in with ProConnect through the router, like a browser (cookies, redirections), against
//! the local OpenID provider, on both backends.

use app::fake_proconnect::{Agent, FRANCE_TRAVAIL_SIRET, FakeProConnect};
use axum::http::StatusCode;

mod client;
use client::{Client, Page};

macro_rules! both {
    ($(async fn $name:ident($f:ident, $p:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let ($f, $p) = FakeProConnect::fixture(store::Backend::Sqlite).await;
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let ($f, $p) = FakeProConnect::fixture(store::Backend::Postgres).await;
                $body
            }
        }
    )*};
}

/// The local path (and query) of an absolute address of the service.
fn local(address: &str) -> String {
    let url = url::Url::parse(address).expect("address");
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Clicks « S'identifier avec ProConnect » on the login page, goes through the provider and
/// comes back: the service's answer to the return.
async fn through_provider(client: &mut Client, p: &FakeProConnect, suite: &str) -> Page {
    let page = client.get(&format!("/connexion?suite={suite}")).await;
    let marker = "href=\"/connexion/proconnect?";
    let start = page.body.find(marker).expect("the ProConnect button") + "href=\"".len();
    let href = page.body[start..]
        .split('"')
        .next()
        .expect("href")
        .replace("&amp;", "&");
    let leaving = client.get(&href).await;
    assert_eq!(leaving.status, StatusCode::SEE_OTHER);
    let set = leaving
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("passerelle_proconnect="))
        .expect("the state cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Max-Age=600"),
        "{set}"
    );
    let to_provider = leaving.location.expect("to the provider");
    assert!(
        to_provider.starts_with(&format!("{}/authorize?", p.issuer)),
        "{to_provider}"
    );
    for param in [
        "code_challenge=",
        "code_challenge_method=S256",
        "nonce=",
        "state=",
        "scope=openid+email",
    ] {
        assert!(to_provider.contains(param), "{param} in {to_provider}");
    }
    let back = p.visit(&to_provider).await;
    client.get(&local(&back)).await
}

both! {
    async fn a_professional_signs_in_with_proconnect_and_out_of_it(f, p) {
        p.sign_in(Some(Agent::new("conseil@test.fr", FRANCE_TRAVAIL_SIRET)));
        let mut client = Client::new(&f);
        let landed = through_provider(&mut client, &p, "/personnes").await;
        assert_eq!(landed.status, StatusCode::SEE_OTHER);
        assert_eq!(landed.location.as_deref(), Some("/personnes"));
        assert!(!client.cookies.contains_key("passerelle_proconnect"), "the state cookie is gone");
        let caseload = client.get("/personnes").await;
        assert_eq!(caseload.status, StatusCode::OK);
        // Logging out is a form whose answer leads to the provider: the policy lets it.
        let csp = caseload.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).expect("policy").to_string();
        let origin = url::Url::parse(&p.issuer).expect("issuer").origin().ascii_serialization();
        assert!(csp.contains(&format!("form-action 'self' {origin};")), "{csp}");
        let out = client.post("/deconnexion", &[("csrf_token", &caseload.csrf())]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        let to = out.location.expect("to the provider");
        assert!(to.starts_with(&format!("{}/session/end?", p.issuer)) && to.contains("id_token_hint="), "{to}");
        let back = p.visit(&to).await;
        let home = client.get(&local(&back)).await;
        assert_eq!(home.location.as_deref(), Some("/connexion?message=deconnecte"));
        assert_eq!(client.get("/personnes").await.status, StatusCode::SEE_OTHER, "logged out");
        // The privacy page says what ProConnect brings and keeps.
        let privacy = client.get("/donnees-personnelles").await;
        assert!(privacy.body.contains("SIRET de la structure") && privacy.body.contains("10 minutes au plus"), "{}", privacy.body);
    }

    async fn a_refused_sign_in_says_why_on_the_login_page(f, p) {
        p.sign_in(Some(Agent::new("inconnu@exemple.fr", FRANCE_TRAVAIL_SIRET)));
        let mut client = Client::new(&f);
        let refused = through_provider(&mut client, &p, "/").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.body.contains("Connexion impossible"), "{}", refused.body);
        assert!(refused.body.contains("Aucun compte Passerelle ni aucune invitation en cours ne correspond à l&#39;adresse inconnu@exemple.fr"), "{}", refused.body);
        assert!(refused.body.contains("name=\"password\""), "the password form stays at hand");
        assert!(!client.cookies.contains_key("passerelle"), "no session");
        // The return without the browser's state (another browser) is refused too.
        p.sign_in(Some(Agent::new("conseil@test.fr", FRANCE_TRAVAIL_SIRET)));
        let leaving = client.get("/connexion/proconnect?suite=/").await;
        let back = p.visit(leaving.location.as_deref().expect("to the provider")).await;
        client.cookies.remove("passerelle_proconnect");
        let elsewhere = client.get(&local(&back)).await;
        assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
        assert!(elsewhere.body.contains("a expiré ou a déjà servi"), "{}", elsewhere.body);
    }

    async fn an_invitation_to_a_known_establishment_offers_proconnect(f, p) {
        let coordinator = f.caller("coordination@test.fr").await;
        let input = app::team::InvitationInput {
            email: "nouvelle@francetravail.fr".into(),
            display_name: "Inès Benali".into(),
            role: "professional".into(),
            organisation_id: f.france_travail.0.to_string(),
        };
        app::team::invite(&f.app, &coordinator, Some("maubeuge"), &input).await.expect("invited");
        let mail = f.outbox().await.into_iter().find(|m| m.recipient == "nouvelle@francetravail.fr").expect("invitation mail");
        let token = app::testing::link_token(&mail.body, "/invitation/");
        let mut client = Client::new(&f);
        let page = client.get(&format!("/invitation/{token}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("S&#39;identifier avec ProConnect") || page.body.contains("S'identifier avec ProConnect"), "{}", page.body);
        let mut agent = Agent::new("nouvelle@francetravail.fr", FRANCE_TRAVAIL_SIRET);
        agent.given_name = "Inès".into();
        agent.usual_name = "Benali".into();
        p.sign_in(Some(agent));
        let landed = through_provider(&mut client, &p, "/").await;
        assert_eq!(landed.location.as_deref(), Some("/"));
        assert_eq!(client.get("/").await.status, StatusCode::OK);
        // The link has served.
        assert_eq!(client.get(&format!("/invitation/{token}")).await.status, StatusCode::NOT_FOUND);
    }
}

app::fixture_tests! {
    offline;
    async fn without_proconnect_there_is_no_button_and_no_route(f) {
        let mut client = Client::new(&f);
        let page = client.get("/connexion").await;
        assert!(!page.body.contains("ProConnect"), "no button");
        assert_eq!(client.get("/connexion/proconnect").await.status, StatusCode::NOT_FOUND);
        let csp = page.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).expect("policy").to_string();
        assert!(csp.contains("form-action 'self';"), "{csp}");
        assert!(!client.get("/donnees-personnelles").await.body.contains("ProConnect"), "nothing to say about a sign-in not offered");
    }
}
