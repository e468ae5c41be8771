//! The command line as an operator meets it: clear French lines, never a panic.

use std::process::{Command, Output, Stdio};

fn passerelle(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("tmp");
    let mut command = Command::new(env!("CARGO_BIN_EXE_passerelle"));
    command
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .env_remove("PASSERELLE_DATABASE_URL");
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn an_unreachable_database_is_reported_in_one_french_line_without_its_password() {
    let out = passerelle(
        &[
            "migrate",
            "--database-url",
            "postgres://passerelle:secret@127.0.0.1:1/passerelle",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("passerelle : impossible de joindre la base de données"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        !err.contains("secret") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn an_unknown_option_or_command_is_explained_in_french() {
    let out = passerelle(&["serve", "--port", "80"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("option inconnue « --port »"),
        "{}",
        stderr(&out)
    );
    let out = passerelle(&["lancer"], &[]);
    assert!(
        stderr(&out).contains("commande inconnue « lancer »"),
        "{}",
        stderr(&out)
    );
    let out = passerelle(&["serve", "--addr", "localhost"], &[]);
    assert!(
        stderr(&out).contains("adresse d'écoute « localhost » invalide"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_environment_variable_is_named() {
    let out = passerelle(
        &["migrate"],
        &[("PASSERELLE_SESSION_IDLE_MINUTES", "beaucoup")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("PASSERELLE_SESSION_IDLE_MINUTES"),
        "{}",
        stderr(&out)
    );
}

fn admin_create_then_log_in(url: &str) {
    let out = passerelle(&["migrate", "--database-url", url], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = passerelle(
        &[
            "admin",
            "create",
            "--email",
            "chef@exemple.fr",
            "--database-url",
            url,
        ],
        &[("PASSERELLE_ADMIN_PASSWORD", "court")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("au moins 12 caractères"),
        "{}",
        stderr(&out)
    );
    let out = passerelle(
        &[
            "admin",
            "create",
            "--email",
            "Chef@Exemple.fr",
            "--database-url",
            url,
        ],
        &[("PASSERELLE_ADMIN_PASSWORD", "une phrase de passe")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Compte créé : Chef@Exemple.fr est administrateur national.")
    );
    let again = passerelle(
        &[
            "admin",
            "create",
            "--email",
            "chef@exemple.fr",
            "--database-url",
            url,
        ],
        &[("PASSERELLE_ADMIN_PASSWORD", "une autre phrase")],
    );
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("Compte mis à jour"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn admin_create_makes_a_national_administrator_on_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    admin_create_then_log_in(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.db").display()
    ));
}

#[tokio::test]
async fn admin_create_makes_a_national_administrator_on_postgres() {
    let (url, admin, name) = store::testing::create_postgres_database().await;
    let run = tokio::task::spawn_blocking(move || admin_create_then_log_in(&url)).await;
    store::testing::drop_postgres_database(&admin, &name);
    run.expect("the CLI test completes");
}
