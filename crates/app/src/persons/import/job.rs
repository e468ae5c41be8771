//! The job `import-personnes`: the import itself, after its dry run.

use std::collections::HashMap;
use std::sync::Arc;

use domain::PersonId;
use domain::person::FileEvent;
use domain::person_import::{ImportMode, ImportState};
use store::person_imports::PersonImport;
use store::persons::{Identity, ImportMark, NewMember, QpvCheck};

use super::pass::{Judged, Pass};
use super::rows::Candidate;
use super::stream::{Report, Stream};
use super::{Verdict, counts_text, to_json, view_of};
use crate::persons::may_record;
use crate::spreadsheet::format_count;
use crate::{App, AppError, Caller};

/// Runs an import (the job `import-personnes`). The rows are judged again (files may have
/// changed since the dry run); all-or-nothing refuses the whole file when one row is refused,
/// before anything is written. Then each chunk is written in its own transaction. A run started
/// again after a crash finds the rows already written by their key and digest: they are
/// « inchangée », and nothing is written twice.
pub async fn run(app: &App, id: i64, lease: &crate::jobs::Lease) -> Result<(), AppError> {
    let now = app.now();
    let import = {
        let mut pooled = app.db.acquire().await?;
        if !store::person_imports::start(&mut pooled.conn(), id, now).await? {
            // Finished, abandoned, or not requested: nothing to do.
            return Ok(());
        }
        store::person_imports::get(&mut pooled.conn(), id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    execute(app, &import, lease).await
}

pub(super) async fn fail(app: &App, import: &PersonImport, message: &str) -> Result<(), AppError> {
    let mut pooled = app.db.acquire().await?;
    store::person_imports::finish(
        &mut pooled.conn(),
        import.id,
        ImportState::Refuse.as_str(),
        None,
        None,
        Some(message),
        app.now(),
    )
    .await?;
    Ok(())
}

async fn execute(
    app: &App,
    import: &PersonImport,
    lease: &crate::jobs::Lease,
) -> Result<(), AppError> {
    let Some(caller) = importer(app, import).await? else {
        return fail(
            app,
            import,
            "Le compte qui a lancé l'import n'a plus le droit d'enregistrer des personnes dans ce territoire : l'import est arrêté.",
        )
        .await;
    };
    let view = view_of(import.clone());
    let mode = view.mode.unwrap_or(ImportMode::ToutOuRien);
    let content = {
        let mut pooled = app.db.acquire().await?;
        store::person_imports::content(&mut pooled.conn(), import.id).await?
    }
    .ok_or(AppError::NotFound)?;
    let content = Arc::new(content);
    let unreadable = |e: AppError| match e {
        AppError::Invalid(errors) => Ok(errors
            .get("fichier")
            .unwrap_or("fichier illisible")
            .to_string()),
        other => Err(other),
    };
    // First pass: judge every row, write nothing. Verdicts are kept by line.
    let mut verdicts: Vec<Option<Verdict>> = Vec::new();
    let mut first = Report::new()?;
    let mut pass = Pass::new(
        app,
        &caller,
        import,
        view.mapping.clone(),
        import.create_duplicates,
    )
    .await?;
    let mut stream = match Stream::open(content.clone()).await {
        Ok((stream, _)) => stream,
        Err(e) => return fail(app, import, &unreadable(e)?).await,
    };
    loop {
        let chunk = match stream.next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return fail(app, import, &unreadable(e)?).await,
        };
        lease.renew(app).await?;
        for j in pass.judge(&chunk).await? {
            first.row(j.report_row(String::new()), &j.verdict)?;
            if verdicts.len() < j.line - 1 {
                verdicts.resize(j.line - 1, None);
            }
            verdicts[j.line - 2] = Some(j.verdict);
        }
    }
    let (text, summary) = first.finish()?;
    let refused = summary.counts.refused;
    if mode == ImportMode::ToutOuRien && refused > 0 {
        let mut pooled = app.db.acquire().await?;
        store::person_imports::finish(
            &mut pooled.conn(),
            import.id,
            ImportState::Refuse.as_str(),
            Some(&to_json(&summary)?),
            Some(&text),
            Some(&format!(
                "{} ligne(s) refusée(s) : rien n'a été importé (tout ou rien).",
                format_count(refused as u64)
            )),
            app.now(),
        )
        .await?;
        return Ok(());
    }
    drop(text);
    // Second pass: read each chunk again, check the addresses of the rows to write, write the
    // chunk in one transaction with the progress.
    let mut report = Report::new()?;
    let organisation = import.organisation_id.map(domain::OrganisationId);
    let detail = format!("/personnes/import/{}", import.id);
    let (mut stream, _) = Stream::open(content).await?;
    let mut done = 0;
    while let Some(chunk) = stream.next().await? {
        lease.renew(app).await?;
        done += chunk.len();
        let mut judged: Vec<Judged> = Vec::with_capacity(chunk.len());
        for (line, row) in &chunk {
            let Some(verdict) = verdicts.get(line - 2).cloned().flatten() else {
                continue;
            };
            let (identifiant, candidate) = pass.read(row);
            judged.push(Judged {
                line: *line,
                identifiant,
                candidate,
                verdict,
            });
        }
        drop(chunk);
        let qpv = pass.locate(&mut judged).await;
        let now = app.now();
        let mut tx = app.db.begin_write().await?;
        let creations: Vec<(&store::persons::NewPerson, ImportMark<'_>)> = judged
            .iter()
            .filter(|j| matches!(j.verdict, Verdict::Create { .. }))
            .filter_map(|j| j.candidate.as_ref().ok())
            .map(|c| {
                (
                    &c.person,
                    ImportMark {
                        key: &c.key,
                        digest: &c.digest,
                        birth_date: c.birth_date,
                    },
                )
            })
            .collect();
        let created: HashMap<String, PersonId> =
            store::persons::create_imported(&mut tx.conn(), &creations, caller.user_id, now)
                .await?
                .into_iter()
                .map(|(id, key)| (key, id))
                .collect();
        let members: Vec<NewMember> = created
            .values()
            .map(|id| NewMember {
                person: *id,
                user: caller.user_id,
                organisation,
                is_referent: true,
                health_access: true,
                added_by: caller.user_id,
            })
            .collect();
        store::persons::add_members(&mut tx.conn(), &members, now).await?;
        let mut updated = Vec::new();
        for (j, qpv_text) in judged.iter().zip(qpv) {
            let person = match (&j.verdict, &j.candidate) {
                (Verdict::Create { .. }, Ok(c)) => created.get(&c.key).copied(),
                (Verdict::Update { id, holder }, Ok(c)) => {
                    let id = *id;
                    update(&mut tx, (id, *holder), c, now).await?;
                    updated.push(id.0);
                    Some(id)
                }
                _ => j.verdict.person(),
            };
            report.row(j.report_row_with(person, qpv_text), &j.verdict)?;
        }
        let created: Vec<i64> = created.values().map(|id| id.0).collect();
        for (event, ids) in [(FileEvent::Create, &created), (FileEvent::Update, &updated)] {
            store::audit::record_each(
                &mut tx.conn(),
                &store::audit::NewEvent {
                    user: Some(caller.user_id),
                    action: event.as_str(),
                    target_kind: "person",
                    target_id: None,
                    territory: Some(import.territory_id),
                    detail: &detail,
                    client_ip: None,
                    api_token: caller.api_token(),
                },
                ids,
                now,
            )
            .await?;
        }
        store::person_imports::progress(&mut tx.conn(), import.id, done as i64, now).await?;
        tx.commit().await?;
    }
    let (text, summary) = report.finish()?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    store::person_imports::finish(
        &mut tx.conn(),
        import.id,
        ImportState::Termine.as_str(),
        Some(&to_json(&summary)?),
        Some(&text),
        None,
        now,
    )
    .await?;
    caller
        .audit(
            &mut tx.conn(),
            now,
            "person_import.run",
            ("person_import", Some(import.id)),
            Some(import.territory_id),
            &counts_text(&summary.counts),
        )
        .await?;
    tx.commit().await?;
    if summary.counts.created + summary.counts.updated >= STATISTICS_AFTER {
        let mut pooled = app.db.acquire().await?;
        store::persons::refresh_statistics(&mut pooled.conn()).await?;
    }
    Ok(())
}

/// Files written past which the planner's statistics are refreshed (autovacuum's own threshold
/// is a tenth of the table, after a delay).
const STATISTICS_AFTER: usize = 1000;

/// A row imported before and changed since: what its cells say replaces what the file
/// `target.0` held (empty cells keep it); a new address is checked again against the QPV map.
/// The key and digest stay on `target.1`, the file the row was imported into (another one
/// when it was merged since; the birth date is then left to the kept file's own).
async fn update(
    tx: &mut store::Tx,
    target: (PersonId, PersonId),
    c: &Candidate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    let (id, holder) = target;
    let stored = store::persons::get(&mut tx.conn(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let p = &c.person;
    // What the row says replaces what the file holds; an empty cell (or a column the file
    // does not have) changes nothing. The address, postal code and commune go together.
    let given = |new: &str, old: &str| {
        if new.is_empty() {
            old.to_string()
        } else {
            new.to_string()
        }
    };
    let moves = !p.address.is_empty() || !p.postal_code.is_empty();
    let (address, postal_code, commune_insee) = if moves {
        (
            p.address.clone(),
            p.postal_code.clone(),
            p.commune_insee.clone(),
        )
    } else {
        (
            stored.address.clone(),
            stored.postal_code.clone(),
            stored.commune_insee.clone(),
        )
    };
    let moved = address != stored.address || postal_code != stored.postal_code;
    let first_name = given(&p.first_name, &stored.first_name);
    let last_name = given(&p.last_name, &stored.last_name);
    let identity = Identity {
        folded_name: domain::text::fold(&format!("{first_name} {last_name}"))
            .trim()
            .to_string(),
        first_name,
        last_name,
        phone: p.phone.clone().or_else(|| stored.phone.clone()),
        email: p.email.clone().or_else(|| stored.email.clone()),
        address,
        postal_code,
        commune_insee,
        neighbourhood: stored.neighbourhood.clone(),
        qpv: if moved {
            Some(p.qpv.clone().unwrap_or(QpvCheck {
                code: None,
                millesime: domain::Millesime::CURRENT.year(),
                confidence: "non vérifiée".into(),
                checked_at: now,
                position: None,
            }))
        } else {
            None
        },
        agrees_recontact: if c.recontact_given {
            p.agrees_recontact
        } else {
            stored.agrees_recontact
        },
    };
    store::persons::update_identity(&mut tx.conn(), id, &identity, now).await?;
    let birth_date = if holder == id { c.birth_date } else { None };
    store::persons::mark_imported(&mut tx.conn(), holder, &c.key, &c.digest, birth_date).await?;
    Ok(())
}

/// The importer as the job acts: the account's rights read again, in the import's territory.
/// `None` when it may no longer record files there.
pub(super) async fn importer(app: &App, import: &PersonImport) -> Result<Option<Caller>, AppError> {
    let mut pooled = app.db.acquire().await?;
    let Some(user) = store::users::by_id(&mut pooled.conn(), import.user_id).await? else {
        return Ok(None);
    };
    if !user.is_active {
        return Ok(None);
    }
    let caller = crate::caller::with_rights(
        &mut pooled.conn(),
        crate::caller::Account {
            user_id: user.id,
            email: user.email,
            display_name: user.display_name,
        },
        Some(import.territory_id.0),
        format!("import:{}", import.id),
    )
    .await?;
    let here = caller
        .active_territory
        .as_ref()
        .is_some_and(|t| t.id == import.territory_id);
    Ok((here && may_record(&caller, import.territory_id)).then_some(caller))
}
