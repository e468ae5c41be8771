//! Personal access tokens of the API, on both backends: scopes, expiry, revocation, the rate
//! limit shared by instances, and what is stored.

use std::sync::Arc;

use app::api_tokens::{self, TokenError, TokenInput};
use app::fixture_tests;
use app::{AppError, Settings};
use chrono::Duration;
use domain::api::ApiScope;

fn input(name: &str, scopes: &[&str], days: &str) -> TokenInput {
    TokenInput {
        name: name.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        days: days.into(),
    }
}

fn refusal(result: Result<api_tokens::Created, AppError>) -> Vec<(String, String)> {
    match result {
        Err(AppError::Invalid(errors)) => errors
            .iter()
            .map(|(f, m)| (f.to_string(), m.to_string()))
            .collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn unknown(result: Result<api_tokens::TokenCaller, TokenError>) -> bool {
    matches!(result, Err(TokenError::Unknown))
}

fixture_tests! {
    async fn a_token_acts_as_its_owner_within_its_scopes_until_it_expires_or_is_revoked(f) {
        let me = f.caller("conseil@test.fr").await;
        let errors = refusal(api_tokens::create(&f.app, &me, &input("", &[], "7")).await);
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["name", "scopes", "days"], "{errors:?}");
        assert!(errors[1].1.contains("Cochez au moins une portée"));
        assert!(refusal(api_tokens::create(&f.app, &me, &input("SI", &["tout"], "30")).await)[0].1.contains("Portée inconnue"));

        let created = api_tokens::create(&f.app, &me, &input("SI de l'agence", &["qpv"], "30")).await.expect("created");
        assert!(created.token.starts_with(api_tokens::TOKEN_PREFIX));
        // Only a hash is kept: the token itself is nowhere in the table.
        {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            let stored = store::api_tokens::of_user(&mut pooled.conn(), me.user_id).await.expect("list");
            assert_eq!(stored.len(), 1);
            assert!(store::api_tokens::live(&mut pooled.conn(), &created.token, f.app.now()).await.expect("read").is_none(), "not stored in clear");
        }
        let used = api_tokens::authenticate(&f.app, &created.token).await.expect("accepted");
        assert_eq!(used.caller.user_id, me.user_id);
        assert_eq!(used.scopes, vec![ApiScope::Qpv]);
        assert_eq!(used.caller.organisations(), me.organisations(), "the owner's rights, no more");
        assert!(unknown(api_tokens::authenticate(&f.app, "passerelle_inventé").await));
        assert!(unknown(api_tokens::authenticate(&f.app, &created.token[1..]).await));

        // Expiry: 30 days later the token is refused, and listed as expired.
        f.clock.advance(Duration::days(30) + Duration::seconds(1));
        assert!(unknown(api_tokens::authenticate(&f.app, &created.token).await), "expired");
        assert_eq!(api_tokens::list(&f.app, &me).await.expect("list")[0].state, "expiré");

        // Revocation: at once, by its owner only.
        let second = api_tokens::create(&f.app, &me, &input("Tableur", &["qpv", "annuaire"], "365")).await.expect("created");
        api_tokens::authenticate(&f.app, &second.token).await.expect("live");
        let other = f.caller("coordination@test.fr").await;
        assert!(matches!(api_tokens::revoke(&f.app, &other, second.id).await, Err(AppError::NotFound)), "not someone else's");
        api_tokens::revoke(&f.app, &me, second.id).await.expect("revoked");
        assert!(unknown(api_tokens::authenticate(&f.app, &second.token).await), "revoked");
        assert!(matches!(api_tokens::revoke(&f.app, &me, second.id).await, Err(AppError::NotFound)), "once");
        let list = api_tokens::list(&f.app, &me).await.expect("list");
        assert_eq!(list.iter().map(|t| t.state).collect::<Vec<_>>(), ["révoqué", "expiré"]);
        assert_eq!(list[0].scopes, vec![ApiScope::Qpv, ApiScope::Directory]);

        // A deactivated owner's tokens stop working.
        let third = api_tokens::create(&f.app, &me, &input("Script", &["qpv"], "90")).await.expect("created");
        {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::users::set_active(&mut pooled.conn(), me.user_id, false).await.expect("deactivated");
        }
        assert!(unknown(api_tokens::authenticate(&f.app, &third.token).await), "owner deactivated");

        let mut pooled = f.app.db.acquire().await.expect("connection");
        let actions: Vec<String> = store::audit::recent(&mut pooled.conn(), None, 50).await.expect("audit").into_iter().map(|e| e.action).collect();
        assert_eq!(actions.iter().filter(|a| *a == "api_token_created").count(), 3);
        assert_eq!(actions.iter().filter(|a| *a == "api_token_revoked").count(), 1);
    }

    async fn requests_past_the_rate_of_a_token_are_refused_until_the_next_minute(f) {
        let mut app = f.app.clone();
        app.settings = Arc::new(Settings { api_requests_per_minute: 3, ..(*f.app.settings).clone() });
        // The start of a minute, so that the three requests fall in the same one.
        let now = f.app.now();
        f.clock.set(now - Duration::seconds(now.timestamp().rem_euclid(60)));
        let me = f.caller("conseil@test.fr").await;
        let created = api_tokens::create(&app, &me, &input("SI", &["qpv"], "30")).await.expect("created");
        // A second instance over the same database shares the count.
        let mut other_instance = app.clone();
        other_instance.settings = app.settings.clone();
        api_tokens::authenticate(&app, &created.token).await.expect("1");
        api_tokens::authenticate(&other_instance, &created.token).await.expect("2");
        api_tokens::authenticate(&app, &created.token).await.expect("3");
        f.clock.advance(Duration::seconds(15));
        match api_tokens::authenticate(&other_instance, &created.token).await {
            Err(e @ TokenError::RateLimited { limit: 3, retry_after: 45 }) => {
                assert!(e.to_string().contains("3 par minute au plus. Réessayez dans 45 secondes"), "{e}");
            }
            other => panic!("expected the rate limit, got {other:?}"),
        }
        f.clock.advance(Duration::seconds(45));
        api_tokens::authenticate(&app, &created.token).await.expect("a new minute");
        // Past minutes' counts are purged by the periodic purge.
        f.clock.advance(Duration::minutes(5));
        app::auth::purge_expired(&app).await.expect("purge");
        let mut pooled = f.app.db.acquire().await.expect("connection");
        assert_eq!(store::api_tokens::purge_counts(&mut pooled.conn(), f.app.now()).await.expect("purge"), 0, "nothing left to purge");
    }
}

fn organisation_input(
    org: domain::OrganisationId,
    scopes: &[&str],
) -> api_tokens::OrganisationTokenInput {
    api_tokens::OrganisationTokenInput {
        organisation_id: org.0.to_string(),
        token: input("SI de l'agence", scopes, "90"),
    }
}

fixture_tests! {
    async fn an_organisation_token_reaches_its_territory_and_no_person(f) {
        let coordinator = f.caller("coordination@test.fr").await;
        let professional = f.caller("conseil@test.fr").await;
        // Only the territory's coordinators make them, for its partners, with personless scopes.
        assert!(matches!(
            api_tokens::create_for_organisation(&f.app, &professional, "maubeuge", &organisation_input(f.france_travail, &["qpv"])).await,
            Err(AppError::Forbidden)
        ));
        let errors = refusal(api_tokens::create_for_organisation(&f.app, &coordinator, "maubeuge", &organisation_input(f.mission_locale, &["qpv", "orientations"])).await);
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["scopes", "organisation_id"], "{errors:?}");
        assert!(errors[0].1.contains("jeton nominatif"), "{errors:?}");
        assert!(errors[1].1.contains("structure partenaire du territoire"), "{errors:?}");

        let created = api_tokens::create_for_organisation(&f.app, &coordinator, "maubeuge", &organisation_input(f.france_travail, &["qpv", "annuaire"])).await.expect("created");
        let used = api_tokens::authenticate(&f.app, &created.token).await.expect("accepted");
        assert_eq!(used.scopes, vec![ApiScope::Qpv, ApiScope::Directory]);
        assert!(used.caller.memberships.is_empty(), "no membership: no person within reach");
        assert!(used.caller.organisations().is_empty());
        assert_eq!(used.caller.territories.len(), 1);
        assert!(used.caller.display_name.contains("(jeton de structure)"), "{}", used.caller.display_name);
        // The territory's directory, and no other territory's.
        assert!(!app::directory_file::export_as(&f.app, &used.caller, "maubeuge").await.expect("directory").is_empty());
        assert!(matches!(app::directory_file::export_as(&f.app, &used.caller, "roubaix").await, Err(AppError::NotFound)));

        // Listed on the territory's page, not among the coordinator's own tokens.
        let listed = api_tokens::organisation_tokens(&f.app, &coordinator, "maubeuge").await.expect("listed");
        assert_eq!(listed.tokens.len(), 1);
        assert_eq!(listed.tokens[0].token.organisation_name.as_deref(), Some("France Travail Maubeuge"));
        assert!(listed.partners.iter().any(|o| o.id == f.france_travail));
        assert!(api_tokens::list(&f.app, &coordinator).await.expect("mine").is_empty());
        assert!(matches!(api_tokens::organisation_tokens(&f.app, &professional, "maubeuge").await, Err(AppError::Forbidden)));

        // It outlives the account that made it…
        {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::users::set_active(&mut pooled.conn(), coordinator.user_id, false).await.expect("deactivated");
        }
        api_tokens::authenticate(&f.app, &created.token).await.expect("still accepted");
        // …until a coordinator revokes it (not with the personal revocation of its maker).
        assert!(matches!(api_tokens::revoke(&f.app, &coordinator, created.id).await, Err(AppError::NotFound)));
        api_tokens::authenticate(&f.app, &created.token).await.expect("still accepted");
        {
            let mut pooled = f.app.db.acquire().await.expect("connection");
            store::users::set_active(&mut pooled.conn(), coordinator.user_id, true).await.expect("active again");
        }
        api_tokens::revoke_organisation_token(&f.app, &coordinator, "maubeuge", created.id).await.expect("revoked");
        assert!(unknown(api_tokens::authenticate(&f.app, &created.token).await));
        assert!(matches!(api_tokens::revoke_organisation_token(&f.app, &coordinator, "maubeuge", created.id).await, Err(AppError::NotFound)), "once");
    }
}
