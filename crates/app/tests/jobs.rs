//! The job queue on both backends: rolled-back changes leave no job, a dead worker's lease
//! expires, failures back off then end « en échec », and two workers on PostgreSQL share a
//! thousand jobs, each run exactly once.

use app::jobs::{self, LEASE, MAX_ATTEMPTS, Ran, Work};
use app::testing::Fixture;
use app::{AppError, fixture_tests};

async fn probes_run(f: &Fixture) -> Vec<i64> {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    let mut numbers: Vec<i64> = store::audit::recent(&mut pooled.conn(), None, 10_000)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "job.probe")
        .filter_map(|e| e.target_id)
        .collect();
    numbers.sort_unstable();
    numbers
}

async fn enqueue(f: &Fixture, work: Work) {
    let mut tx = f.app.db.begin().await.expect("tx");
    jobs::enqueue(&mut tx.conn(), &f.app, &work, None, f.app.now())
        .await
        .expect("enqueued");
    tx.commit().await.expect("commit");
}

async fn job(f: &Fixture, state: &str) -> Vec<store::jobs::Job> {
    let mut pooled = f.app.db.acquire().await.expect("connection");
    store::jobs::in_state(&mut pooled.conn(), state, 100)
        .await
        .expect("jobs")
}

fixture_tests! {
    async fn a_rolled_back_change_leaves_no_job(f) {
        {
            let mut tx = f.app.db.begin().await.expect("tx");
            jobs::enqueue(&mut tx.conn(), &f.app, &Work::Probe { number: 1, fail: false }, None, f.app.now()).await.expect("enqueued");
            // Dropped without commit: the change and its job go together.
        }
        assert_eq!(jobs::drain(&f.app, "w").await.expect("drain"), 0);
        // A refused invitation queues no mail either.
        let coordinator = f.caller("coordination@test.fr").await;
        let bad = app::team::InvitationInput { email: "pas-une-adresse".into(), ..Default::default() };
        assert!(app::team::invite(&f.app, &coordinator, Some("maubeuge"), &bad).await.is_err());
        assert!(job(&f, "en-attente").await.is_empty());
    }

    async fn a_worker_that_dies_mid_job_has_its_lease_expire_and_the_job_runs_again(f) {
        enqueue(&f, Work::Probe { number: 7, fail: false }).await;
        let now = f.app.now();
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let taken = store::jobs::claim(&mut pooled.conn(), "mort", now, now + LEASE).await.expect("claim");
        drop(pooled);
        assert!(taken.is_some(), "the first worker took it, then died");
        assert_eq!(jobs::run_one(&f.app, "vivant").await.expect("run"), None, "leased: nobody else takes it");
        f.clock.advance(LEASE + chrono::Duration::seconds(1));
        assert!(matches!(jobs::run_one(&f.app, "vivant").await.expect("run"), Some(Ran::Done { .. })));
        assert_eq!(probes_run(&f).await, vec![7]);
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let late = store::jobs::complete(&mut pooled.conn(), taken.expect("job").id, "mort", f.app.now()).await.expect("late");
        assert!(!late, "the dead worker cannot complete what another finished");
    }

    async fn a_long_job_that_renews_its_lease_is_not_taken_again_and_a_lost_lease_stops_it(f) {
        enqueue(&f, Work::Probe { number: 8, fail: false }).await;
        let now = f.app.now();
        let mut pooled = f.app.db.acquire().await.expect("connection");
        let taken = store::jobs::claim(&mut pooled.conn(), "long", now, now + LEASE).await.expect("claim").expect("taken");
        drop(pooled);
        let lease = jobs::Lease::new(taken.id, "long", now);
        // Four minutes in, the job says it is alive: two minutes past the first lease, still its own.
        f.clock.advance(chrono::Duration::minutes(4));
        lease.renew(&f.app).await.expect("renewed");
        f.clock.advance(chrono::Duration::minutes(2));
        assert_eq!(jobs::run_one(&f.app, "autre").await.expect("run"), None, "renewed: nobody else takes it");
        // Silent past the renewed lease: another worker takes it, and the first may not renew.
        f.clock.advance(LEASE);
        assert!(matches!(jobs::run_one(&f.app, "autre").await.expect("run"), Some(Ran::Done { .. })));
        assert!(lease.renew(&f.app).await.is_err(), "the job is no longer its own: it stops");
        assert_eq!(probes_run(&f).await, vec![8]);
    }

    async fn a_job_failing_every_time_ends_in_failure_after_its_retries_and_an_administrator_relaunches_it(f) {
        enqueue(&f, Work::Probe { number: 3, fail: true }).await;
        for attempt in 1..=MAX_ATTEMPTS {
            let Some(Ran::Failed { error, .. }) = jobs::run_one(&f.app, "w").await.expect("run") else { panic!("attempt {attempt} fails") };
            assert!(error.contains("échoue"));
            assert_eq!(jobs::run_one(&f.app, "w").await.expect("run"), None, "not before its delay");
            f.clock.advance(jobs::backoff(attempt));
        }
        f.clock.advance(chrono::Duration::hours(2));
        assert_eq!(jobs::run_one(&f.app, "w").await.expect("run"), None, "given up");
        let failed = job(&f, "en-echec").await;
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].attempts, MAX_ATTEMPTS);
        assert!(failed[0].last_error.as_deref().unwrap_or("").contains("échoue"));
        let professional = f.caller("conseil@test.fr").await;
        assert!(matches!(jobs::retry(&f.app, &professional, failed[0].id).await, Err(AppError::Forbidden)));
        let admin = f.caller("admin@test.fr").await;
        jobs::retry(&f.app, &admin, failed[0].id).await.expect("relaunched");
        assert!(matches!(jobs::run_one(&f.app, "w").await.expect("run"), Some(Ran::Failed { .. })), "runs again");
        assert!(matches!(jobs::retry(&f.app, &admin, failed[0].id).await, Err(AppError::NotFound)), "only a failed job is relaunched");
    }
}

#[tokio::test]
async fn two_workers_on_postgresql_run_a_thousand_jobs_each_exactly_once() {
    let f = Fixture::new(store::Backend::Postgres).await;
    let mut tx = f.app.db.begin().await.expect("tx");
    for number in 0..1000 {
        jobs::enqueue(
            &mut tx.conn(),
            &f.app,
            &Work::Probe {
                number,
                fail: false,
            },
            None,
            f.app.now(),
        )
        .await
        .expect("enqueued");
    }
    tx.commit().await.expect("commit");
    // A second server instance: its own pool on the same database.
    let db = store::Db::connect(&f.test_db.url, &store::PoolSettings::default())
        .await
        .expect("second pool");
    let mut second = app::App::new(db, app::Settings::default(), None)
        .await
        .expect("second instance");
    second.clock = f.app.clock.clone();
    let first = f.app.clone();
    let a = tokio::spawn(async move { jobs::drain(&first, "instance-a").await });
    let b = tokio::spawn(async move { jobs::drain(&second, "instance-b").await });
    let (ran_a, ran_b) = (
        a.await.expect("a").expect("drain a"),
        b.await.expect("b").expect("drain b"),
    );
    assert_eq!(ran_a + ran_b, 1000);
    assert_eq!(
        probes_run(&f).await,
        (0..1000).collect::<Vec<i64>>(),
        "each job once, none lost"
    );
    assert!(job(&f, "en-attente").await.is_empty() && job(&f, "en-cours").await.is_empty());
}
