//! What the tables are built from, as the store counts it (`Counts`): counted in one read
//! transaction, or the day's counts kept for readers of aggregates (`indicator_snapshots`).

use super::*;

/// Everything the tables are built from, as the store counted it (before any masking): what a
/// snapshot keeps (`indicator_snapshots`), so that masking and layout are always today's code.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct Counts {
    pub(super) cube: Vec<store::indicators::CubeRow>,
    pub(super) territories: Vec<(TerritoryId, String)>,
    pub(super) cohorts: Vec<CountRow>,
    pub(super) first_diagnosed: i64,
    pub(super) barriers: Vec<CountRow>,
    /// By receiver (or its kind), then by offer: the outcomes, the answer and entry delays.
    pub(super) orientations: Vec<(
        Vec<CountRow>,
        Vec<store::indicators::Delay>,
        Vec<store::indicators::Delay>,
    )>,
    pub(super) reasons: Vec<CountRow>,
    pub(super) actions: Vec<CountRow>,
    pub(super) engagements: Vec<CountRow>,
    pub(super) partners: Vec<CountRow>,
    pub(super) follow_up: Vec<CountRow>,
}

/// Counts what the tables of a reach need over a period: one read transaction, so every
/// table comes from the same state of the data; on PostgreSQL with room to sort and hash in
/// memory, and without compiling statements that run once.
pub async fn count(
    app: &App,
    reach: &Reach,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Counts, AppError> {
    let p = Period::days(from, to);
    let ids = reach.territories();
    let ts = ids.as_deref();
    let one = matches!(reach, Reach::Territory(_));
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    if c.backend() == store::Backend::Postgres {
        store::sql::Sql::new("SET LOCAL work_mem = '64MB'")
            .execute(&mut c)
            .await?;
        store::sql::Sql::new("SET LOCAL jit = off")
            .execute(&mut c)
            .await?;
        // A territory's persons are read through the indexes from their ids: on data held in
        // memory or on SSD, random reads cost little more than sequential ones.
        store::sql::Sql::new("SET LOCAL random_page_cost = 1.1")
            .execute(&mut c)
            .await?;
    }
    let cube = store::indicators::funnel_cube(&mut c, ts, &p).await?;
    let territories = if one {
        Vec::new()
    } else {
        store::territories::list(&mut c)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect()
    };
    let cohorts = if one {
        store::indicators::funnel_by_cohort(&mut c, ts, &p).await?
    } else {
        Vec::new()
    };
    let (first_diagnosed, barriers) = store::indicators::barriers(&mut c, ts, &p).await?;
    let receiver = if one {
        OrientationGrouping::Receiver
    } else {
        OrientationGrouping::ReceiverKind
    };
    let mut orientations = Vec::new();
    for g in [receiver, OrientationGrouping::Offer] {
        orientations.push((
            store::indicators::orientations(&mut c, ts, g, &p).await?,
            store::indicators::delays(&mut c, ts, g, &p, true).await?,
            store::indicators::delays(&mut c, ts, g, &p, false).await?,
        ));
    }
    let counts = Counts {
        cube,
        territories,
        cohorts,
        first_diagnosed,
        barriers,
        orientations,
        reasons: store::indicators::decline_reasons(&mut c, ts, &p).await?,
        actions: store::indicators::collective_actions(&mut c, ts, &p).await?,
        engagements: store::indicators::engagements(&mut c, ts, &p).await?,
        partners: store::indicators::partners(&mut c, ts, &p, !one).await?,
        follow_up: store::indicators::follow_up(&mut c, ts, &p).await?,
    };
    tx.commit().await?;
    Ok(counts)
}

/// The counts of a reach over a period for readers of aggregates: the snapshot taken today if
/// there is one, else counted now and kept for the rest of the day (whole months already over
/// change only when someone records the past; the page says when the figures were taken).
pub async fn counts_of_the_day(
    app: &App,
    reach: &Reach,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Counts, chrono::DateTime<chrono::Utc>), AppError> {
    let key = reach.key();
    let today = app.today();
    let mut pooled = app.db.acquire().await?;
    let kept = store::indicators::snapshot(&mut pooled.conn(), &key, from, to).await?;
    drop(pooled);
    if let Some((at, json)) = kept
        && domain::calendar::france_date(at) == today
        && let Ok(counts) = serde_json::from_str::<Counts>(&json)
    {
        return Ok((counts, at));
    }
    let counts = count(app, reach, from, to).await?;
    let json = serde_json::to_string(&counts)
        .map_err(|e| AppError::Internal(format!("instantané des indicateurs : {e}")))?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    store::indicators::keep_snapshot(&mut tx.conn(), &key, from, to, &json, now).await?;
    tx.commit().await?;
    Ok((counts, now))
}

/// The default period of readers of aggregates: from the first of January to the end of the
/// last month over (the whole previous year in January).
pub fn default_months(today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    period(
        &mut FieldErrors::default(),
        "",
        "",
        today,
        PeriodRule::WholeMonths,
    )
}

/// The nightly job: forgets the counts of the days before, then takes the day's for the
/// default period, for the whole country and each territory, so that the first pilot of the
/// morning waits no more than the others.
pub async fn refresh_snapshots(app: &App) -> Result<usize, AppError> {
    let today = app.today();
    let mut tx = app.db.begin_write().await?;
    store::indicators::forget_snapshots(&mut tx.conn(), domain::TimeZone::Paris.midnight(today))
        .await?;
    tx.commit().await?;
    let Some((from, to)) = default_months(today) else {
        return Ok(0);
    };
    let mut pooled = app.db.acquire().await?;
    let territories = store::territories::list(&mut pooled.conn()).await?;
    drop(pooled);
    let mut reaches = vec![Reach::National];
    reaches.extend(territories.iter().map(|t| Reach::Territory(t.id)));
    for r in &reaches {
        counts_of_the_day(app, r, from, to).await?;
    }
    Ok(reaches.len())
}
