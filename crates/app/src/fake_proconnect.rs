//! A local OpenID provider standing in for ProConnect in tests: HTTP/1.1 on 127.0.0.1 with the
//! real protocol — discovery, JWKS, the authorization endpoint (which signs in whoever the test
//! chose, at once), the token endpoint (client secret, PKCE S256, single-use codes), a userinfo
//! endpoint answering a signed JWT as ProConnect does, and the end-of-session endpoint. ID
//! tokens and userinfo are signed RS256 with a test key (`testdata/`, never used elsewhere);
//! it can also misbehave the ways a forged or misdirected answer would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreGenderClaim, CoreIdToken, CoreIdTokenClaims, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, AuthenticationMethodReference, EmptyAdditionalClaims, EndUserEmail, EndUserGivenName,
    IssuerUrl, JsonWebKeyId, Nonce, PrivateSigningKey, StandardClaims, SubjectIdentifier,
    UserInfoClaims, UserInfoJsonWebToken,
};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::Clock;
use crate::proconnect::{ProConnectClaims, ProConnectSettings};

const PROVIDER_KEY: &str = include_str!("../testdata/proconnect-provider.pem");
const IMPOSTOR_KEY: &str = include_str!("../testdata/proconnect-impostor.pem");
/// The SIRET of the fixture's France Travail agency in [`FakeProConnect::fixture`].
pub const FRANCE_TRAVAIL_SIRET: &str = "13000548100010";
pub const CLIENT_ID: &str = "passerelle-tests";
pub const CLIENT_SECRET: &str = "secret-des-tests";

/// Who the provider signs in at its authorization endpoint.
#[derive(Debug, Clone)]
pub struct Agent {
    pub email: String,
    pub siret: String,
    pub given_name: String,
    pub usual_name: String,
    /// How they authenticated (`amr`): `["pwd"]`, or `["pwd", "mfa"]` with a second factor.
    pub amr: Vec<String>,
}

impl Agent {
    pub fn new(email: &str, siret: &str) -> Agent {
        Agent {
            email: email.into(),
            siret: siret.into(),
            given_name: "Camille".into(),
            usual_name: "Martin".into(),
            amr: vec!["pwd".into()],
        }
    }
}

/// The ways the provider's answer can go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Misbehaviour {
    #[default]
    None,
    /// ID tokens signed with another key than the published one (a forgery).
    ForeignKey,
    /// ID tokens carrying another nonce than the one asked for (a token of another sign-in).
    WrongNonce,
    /// ID tokens for another client.
    WrongAudience,
    /// ID tokens that expired already.
    Expired,
}

struct Grant {
    agent: Agent,
    nonce: String,
    challenge: String,
    redirect_uri: String,
    used: bool,
}

#[derive(Default)]
struct State {
    agent: Option<Agent>,
    misbehaviour: Misbehaviour,
    codes: HashMap<String, Grant>,
    access: HashMap<String, Agent>,
    token_requests: usize,
    logouts: Vec<HashMap<String, String>>,
    /// Dates its tokens (the application's clock, once [`FakeProConnect::follow`] is called).
    clock: Option<Clock>,
}

/// The running provider.
#[derive(Clone)]
pub struct FakeProConnect {
    pub issuer: String,
    state: Arc<Mutex<State>>,
}

impl FakeProConnect {
    /// Starts the provider; its tokens are dated by the system clock until it follows an
    /// application's.
    pub async fn start() -> FakeProConnect {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let issuer = format!("http://{}/api/v2", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State::default()));
        let provider = FakeProConnect {
            issuer: issuer.clone(),
            state: state.clone(),
        };
        let keys = Arc::new(Keys::load());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (issuer, state, keys) = (issuer.clone(), state.clone(), keys.clone());
                tokio::spawn(async move {
                    let Some((head, body)) = crate::testing::read_request(&mut socket).await else {
                        return;
                    };
                    let answer = answer(&issuer, &state, &keys, &head, &body);
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        provider
    }

    /// A provider and a fixture whose service is registered with it (its BAN API offline),
    /// France Travail known by its SIRET ([`FRANCE_TRAVAIL_SIRET`]).
    pub async fn fixture(backend: store::Backend) -> (crate::testing::Fixture, FakeProConnect) {
        let provider = FakeProConnect::start().await;
        let settings = crate::Settings {
            proconnect: Some(provider.settings()),
            ban_api_url: "http://127.0.0.1:9".into(),
            ..crate::Settings::default()
        };
        let f = crate::testing::Fixture::with_settings(backend, settings).await;
        provider.follow(&f.app);
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let o = store::organisations::by_id(&mut pooled.conn(), f.france_travail)
            .await
            .expect("read")
            .expect("organisation");
        let data = store::organisations::OrganisationData {
            name: o.name,
            kind: domain::OrganisationKind::from_code(&o.kind).expect("kind"),
            siret: Some(domain::Siret::parse(FRANCE_TRAVAIL_SIRET).expect("siret")),
            address: o.address,
            postal_code: o.postal_code,
            commune_insee: domain::InseeCode::parse(&o.commune_insee).expect("insee"),
        };
        store::organisations::update(&mut pooled.conn(), f.france_travail, &data, f.app.now())
            .await
            .expect("siret set");
        drop(pooled);
        (f, provider)
    }

    /// The service's registration with this provider.
    pub fn settings(&self) -> ProConnectSettings {
        ProConnectSettings {
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
        }
    }

    /// Dates its tokens by the application's clock (the fixture's, which tests move).
    pub fn follow(&self, app: &crate::App) {
        let clock = app.clock.clone();
        self.with(|s| s.clock = Some(clock));
    }

    /// Whom the next authorizations sign in (`None`: the person cancels at the provider).
    pub fn sign_in(&self, agent: Option<Agent>) {
        self.with(|s| s.agent = agent);
    }

    pub fn misbehave(&self, misbehaviour: Misbehaviour) {
        self.with(|s| s.misbehaviour = misbehaviour);
    }

    /// Visits one of its addresses as a browser would (authorization, end of session) and
    /// returns where it sends the browser next.
    pub async fn visit(&self, url: &str) -> String {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let answer = client.get(url).send().await.expect("provider");
        assert_eq!(answer.status(), 302, "the provider sends the browser on");
        answer
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .expect("location")
            .to_string()
    }

    /// Requests its token endpoint received.
    pub fn token_requests(&self) -> usize {
        self.with(|s| s.token_requests)
    }

    /// The query parameters of each visit to its end-of-session endpoint.
    pub fn logouts(&self) -> Vec<HashMap<String, String>> {
        self.with(|s| s.logouts.clone())
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().expect("provider state");
        f(&mut state)
    }
}

struct Keys {
    provider: CoreRsaPrivateSigningKey,
    impostor: CoreRsaPrivateSigningKey,
}

impl Keys {
    fn load() -> Keys {
        let kid = Some(JsonWebKeyId::new("cle-des-tests".into()));
        Keys {
            provider: CoreRsaPrivateSigningKey::from_pem(PROVIDER_KEY, kid.clone())
                .expect("provider key"),
            // The impostor claims the provider's key id: only the signature betrays it.
            impostor: CoreRsaPrivateSigningKey::from_pem(IMPOSTOR_KEY, kid).expect("impostor key"),
        }
    }
}

fn response(status: &str, content_type: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    )
}

fn redirect(location: &str) -> String {
    response(
        "302 Found",
        "text/plain",
        &format!("Location: {location}\r\n"),
        "",
    )
}

fn json(status: &str, body: &serde_json::Value) -> String {
    response(status, "application/json", "", &body.to_string())
}

fn oauth_error(error: &str) -> String {
    json("400 Bad Request", &serde_json::json!({ "error": error }))
}

fn form(text: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(base).expect("redirect address");
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

fn answer(issuer: &str, state: &Mutex<State>, keys: &Keys, head: &str, body: &[u8]) -> String {
    let line = head.lines().next().unwrap_or("");
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some(path) = url::Url::parse(issuer)
        .ok()
        .and_then(|u| path.strip_prefix(u.path()).map(str::to_string))
    else {
        return response("404 Not Found", "text/plain", "", "");
    };
    let Ok(mut state) = state.lock() else {
        return response("500 Internal Server Error", "text/plain", "", "");
    };
    match (method, path.as_str()) {
        ("GET", "/.well-known/openid-configuration") => json(
            "200 OK",
            &serde_json::json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/authorize"),
                "token_endpoint": format!("{issuer}/token"),
                "userinfo_endpoint": format!("{issuer}/userinfo"),
                "jwks_uri": format!("{issuer}/jwks"),
                "end_session_endpoint": format!("{issuer}/session/end"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "grant_types_supported": ["authorization_code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "userinfo_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "email", "given_name", "usual_name", "siret", "uid"],
                "claims_parameter_supported": true,
            }),
        ),
        ("GET", "/jwks") => json(
            "200 OK",
            &serde_json::json!({ "keys": [keys.provider.as_verification_key()] }),
        ),
        ("GET", "/authorize") => authorize(&mut state, &form(query)),
        ("POST", "/token") => token(
            issuer,
            &mut state,
            keys,
            &form(&String::from_utf8_lossy(body)),
        ),
        ("GET", "/userinfo") => userinfo(issuer, &state, keys, head),
        ("GET", "/session/end") => {
            let params = form(query);
            let back = params.get("post_logout_redirect_uri").cloned();
            let back_state = params.get("state").cloned().unwrap_or_default();
            state.logouts.push(params);
            match back {
                Some(back) => redirect(&with_query(&back, &[("state", &back_state)])),
                None => response("200 OK", "text/plain", "", "Déconnecté"),
            }
        }
        _ => response("404 Not Found", "text/plain", "", ""),
    }
}

fn authorize(state: &mut State, params: &HashMap<String, String>) -> String {
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    let redirect_uri = get("redirect_uri");
    if get("client_id") != CLIENT_ID || redirect_uri.is_empty() {
        return response("400 Bad Request", "text/plain", "", "client inconnu");
    }
    let back_state = get("state");
    let refuse = |error: &str| {
        redirect(&with_query(
            &redirect_uri,
            &[("error", error), ("state", back_state.as_str())],
        ))
    };
    if get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("code_challenge").is_empty()
        || !get("scope").split(' ').any(|s| s == "openid")
    {
        return refuse("invalid_request");
    }
    let Some(agent) = state.agent.clone() else {
        return refuse("access_denied");
    };
    let code = crate::secrets::random_token();
    state.codes.insert(
        code.clone(),
        Grant {
            agent,
            nonce: get("nonce"),
            challenge: get("code_challenge"),
            redirect_uri: redirect_uri.clone(),
            used: false,
        },
    );
    redirect(&with_query(
        &redirect_uri,
        &[("code", code.as_str()), ("state", back_state.as_str())],
    ))
}

fn token(issuer: &str, state: &mut State, keys: &Keys, params: &HashMap<String, String>) -> String {
    state.token_requests += 1;
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
        return json(
            "401 Unauthorized",
            &serde_json::json!({ "error": "invalid_client" }),
        );
    }
    if get("grant_type") != "authorization_code" {
        return oauth_error("unsupported_grant_type");
    }
    let Some(grant) = state.codes.get_mut(&get("code")) else {
        return oauth_error("invalid_grant");
    };
    // A code serves once.
    if grant.used {
        return oauth_error("invalid_grant");
    }
    grant.used = true;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(get("code_verifier").as_bytes()));
    if challenge != grant.challenge || get("redirect_uri") != grant.redirect_uri {
        return oauth_error("invalid_grant");
    }
    let agent = grant.agent.clone();
    let nonce = match state.misbehaviour {
        Misbehaviour::WrongNonce => "un-autre-nonce".to_string(),
        _ => grant.nonce.clone(),
    };
    let now = state
        .clock
        .as_ref()
        .map_or_else(store::now, |clock| clock());
    let (issued, expires) = match state.misbehaviour {
        Misbehaviour::Expired => (
            now - chrono::Duration::minutes(10),
            now - chrono::Duration::minutes(5),
        ),
        _ => (now, now + chrono::Duration::minutes(1)),
    };
    let audience = match state.misbehaviour {
        Misbehaviour::WrongAudience => "un-autre-service",
        _ => CLIENT_ID,
    };
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(issuer.to_string()).expect("issuer"),
        vec![Audience::new(audience.to_string())],
        expires,
        issued,
        StandardClaims::new(subject(&agent)),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(nonce)))
    .set_auth_method_refs(Some(
        agent
            .amr
            .iter()
            .map(|m| AuthenticationMethodReference::new(m.clone()))
            .collect(),
    ));
    let key = match state.misbehaviour {
        Misbehaviour::ForeignKey => &keys.impostor,
        _ => &keys.provider,
    };
    let Ok(id_token) = CoreIdToken::new(
        claims,
        key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    ) else {
        return response("500 Internal Server Error", "text/plain", "", "");
    };
    let access_token = crate::secrets::random_token();
    state.access.insert(access_token.clone(), agent);
    json(
        "200 OK",
        &serde_json::json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 60,
            "id_token": id_token.to_string(),
            "scope": "openid email given_name usual_name siret uid",
        }),
    )
}

fn subject(agent: &Agent) -> SubjectIdentifier {
    SubjectIdentifier::new(format!("sub-{}", agent.email))
}

/// ProConnect answers userinfo as a JWT signed like the ID token.
fn userinfo(issuer: &str, state: &State, keys: &Keys, head: &str) -> String {
    let bearer = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("authorization")
            .then(|| value.trim().strip_prefix("Bearer ").map(str::to_string))?
    });
    let Some(agent) = bearer.and_then(|t| state.access.get(&t)) else {
        return json(
            "401 Unauthorized",
            &serde_json::json!({ "error": "invalid_token" }),
        );
    };
    let standard = StandardClaims::new(subject(agent))
        .set_email(Some(EndUserEmail::new(agent.email.clone())))
        .set_given_name(Some(EndUserGivenName::new(agent.given_name.clone()).into()));
    let extra = ProConnectClaims {
        siret: Some(agent.siret.clone()),
        usual_name: Some(agent.usual_name.clone()),
        uid: Some(agent.email.clone()),
    };
    let claims = UserInfoClaims::new(standard, extra)
        .set_issuer(Some(IssuerUrl::new(issuer.to_string()).expect("issuer")))
        .set_audiences(Some(vec![Audience::new(CLIENT_ID.to_string())]));
    let jwt = UserInfoJsonWebToken::<
        ProConnectClaims,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >::new(
        claims,
        &keys.provider,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    );
    // A JWT serializes as its compact form, a JSON string.
    match jwt.ok().and_then(|t| serde_json::to_value(t).ok()) {
        Some(serde_json::Value::String(compact)) => {
            response("200 OK", "application/jwt", "", &compact)
        }
        _ => response("500 Internal Server Error", "text/plain", "", ""),
    }
}
