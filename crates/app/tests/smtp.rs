//! Mail delivery through a real SMTP conversation with a local server on 127.0.0.1.

use std::sync::{Arc, Mutex};

use app::testing::Fixture;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A minimal SMTP server (RFC 5321: EHLO, MAIL, RCPT, DATA, QUIT) that keeps what it receives.
/// With `reject_data`, it refuses every message with a permanent error.
async fn smtp_server(reject_data: bool) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test.local ESMTP\r\n").await;
                let mut message = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-test.local\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL FROM") || upper.starts_with("RCPT TO") {
                        message.push_str(&line);
                        message.push('\n');
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        if reject_data {
                            b"554 Transaction failed\r\n"
                        } else {
                            let _ = write
                                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                                .await;
                            while let Ok(Some(data)) = lines.next_line().await {
                                if data == "." {
                                    break;
                                }
                                message.push_str(&data);
                                message.push('\n');
                            }
                            if let Ok(mut all) = store.lock() {
                                all.push(std::mem::take(&mut message));
                            }
                            b"250 OK queued\r\n"
                        }
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 Bye\r\n").await;
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, received)
}

async fn fixture_with_smtp(backend: store::Backend, port: u16) -> Fixture {
    let settings = app::Settings {
        mail: app::MailSettings {
            smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
            from: "Passerelle <ne-pas-repondre@passerelle.test>".into(),
        },
        ..app::Settings::default()
    };
    Fixture::with_settings(backend, settings).await
}

async fn a_reset_mail_goes_out_by_smtp_and_is_marked_sent(backend: store::Backend) {
    let (port, received) = smtp_server(false).await;
    let f = fixture_with_smtp(backend, port).await;
    app::auth::request_password_reset(&f.app, "conseil@test.fr", "10.0.0.1")
        .await
        .expect("requested");
    app::jobs::drain(&f.app, "essai").await.expect("jobs run");
    let messages = received.lock().expect("lock").clone();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].contains("RCPT TO:<conseil@test.fr>"),
        "{}",
        messages[0]
    );
    assert!(
        messages[0].contains("Subject: =?utf-8?"),
        "French subject is encoded: {}",
        messages[0]
    );
    assert!(messages[0].contains("/mot-de-passe/"));
    let outbox = f.outbox().await;
    assert!(outbox[0].sent_at.is_some(), "{:?}", outbox[0]);
    assert_eq!(outbox[0].attempts, 1);
}

async fn a_refused_mail_stays_in_the_outbox_with_the_reason_and_the_action_still_succeeds(
    backend: store::Backend,
) {
    let (port, _) = smtp_server(true).await;
    let f = fixture_with_smtp(backend, port).await;
    app::auth::request_password_reset(&f.app, "conseil@test.fr", "10.0.0.1")
        .await
        .expect("the user's action is not lost");
    app::jobs::drain(&f.app, "essai").await.expect("jobs run");
    let outbox = f.outbox().await;
    assert!(outbox[0].sent_at.is_none());
    assert_eq!(outbox[0].attempts, 1);
    assert!(
        outbox[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("554"),
        "{:?}",
        outbox[0].last_error
    );
}

#[tokio::test]
async fn a_reset_mail_goes_out_by_smtp_and_is_marked_sent_on_sqlite() {
    a_reset_mail_goes_out_by_smtp_and_is_marked_sent(store::Backend::Sqlite).await;
}

#[tokio::test]
async fn a_reset_mail_goes_out_by_smtp_and_is_marked_sent_on_postgres() {
    a_reset_mail_goes_out_by_smtp_and_is_marked_sent(store::Backend::Postgres).await;
}

#[tokio::test]
async fn a_refused_mail_stays_in_the_outbox_with_the_reason_on_sqlite() {
    a_refused_mail_stays_in_the_outbox_with_the_reason_and_the_action_still_succeeds(
        store::Backend::Sqlite,
    )
    .await;
}

#[tokio::test]
async fn a_refused_mail_stays_in_the_outbox_with_the_reason_on_postgres() {
    a_refused_mail_stays_in_the_outbox_with_the_reason_and_the_action_still_succeeds(
        store::Backend::Postgres,
    )
    .await;
}

#[tokio::test]
async fn a_mail_is_delivered_exactly_once_with_two_server_instances_on_one_postgresql() {
    let (port, received) = smtp_server(false).await;
    let f = fixture_with_smtp(store::Backend::Postgres, port).await;
    let db = store::Db::connect(&f.test_db.url, &store::PoolSettings::default())
        .await
        .expect("second pool");
    let mut second = app::App::new(db, (*f.app.settings).clone(), None)
        .await
        .expect("second instance");
    second.clock = f.app.clock.clone();
    app::auth::request_password_reset(&f.app, "conseil@test.fr", "10.0.0.1")
        .await
        .expect("requested");
    let first = f.app.clone();
    let a = tokio::spawn(async move { app::jobs::drain(&first, "instance-a").await });
    let b = tokio::spawn(async move { app::jobs::drain(&second, "instance-b").await });
    let ran = a.await.expect("a").expect("drain a") + b.await.expect("b").expect("drain b");
    assert_eq!(ran, 1, "one job for one mail");
    assert_eq!(
        received.lock().expect("lock").len(),
        1,
        "delivered exactly once"
    );
    let outbox = f.outbox().await;
    assert_eq!(outbox[0].attempts, 1);
    assert!(outbox[0].sent_at.is_some());
    assert!(
        !outbox[0].body.contains("/mot-de-passe/") || outbox[0].body.contains("[lien masqué]"),
        "the stored copy keeps no live link"
    );
}
