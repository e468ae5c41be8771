//! One walk through the file: rows read, judged against the files held and the rows above,
//! and their addresses checked, chunk by chunk.

use std::collections::{HashMap, HashSet};

use domain::PersonId;
use domain::person_import::ImportColumn;
use store::person_imports::PersonImport;
use store::persons::{QpvCheck, Scope};

use super::ReportRow;
use super::mapping::Mapping;
use super::rows::{self, Above, Candidate, Context, Known, Previous, Verdict};
use crate::persons::scope;
use crate::{App, AppError, Caller};

/// A row once judged.
pub(super) struct Judged {
    pub line: usize,
    /// The partner's identifier of the row, as written (also for a refused row).
    pub identifiant: String,
    pub candidate: Result<Candidate, String>,
    pub verdict: Verdict,
}

impl Judged {
    pub fn report_row(&self, qpv: String) -> ReportRow {
        self.report_row_with(self.verdict.person(), qpv)
    }

    pub fn report_row_with(&self, person: Option<PersonId>, qpv: String) -> ReportRow {
        ReportRow {
            line: self.line,
            identifiant: self.identifiant.clone(),
            outcome: self.verdict.label().to_string(),
            person: person.map(|p| p.0),
            reason: self.verdict.reason().to_string(),
            qpv,
        }
    }
}

/// One walk through the file: what it knows of the files held and of the rows above.
pub(super) struct Pass<'a> {
    app: &'a App,
    pub ctx: Context,
    pub mapping: Mapping,
    scope: Scope,
    known: Known,
    above: Above,
    create_duplicates: bool,
}

impl<'a> Pass<'a> {
    pub async fn new(
        app: &'a App,
        caller: &Caller,
        import: &PersonImport,
        mapping: Mapping,
        create_duplicates: bool,
    ) -> Result<Pass<'a>, AppError> {
        let scope = scope(caller)?;
        let names = {
            let mut pooled = app.db.acquire().await?;
            store::persons::names(&mut pooled.conn(), &scope).await?
        };
        let territory = caller.active_territory.as_ref().ok_or(AppError::NotFound)?;
        Ok(Pass {
            app,
            ctx: Context {
                territory: import.territory_id,
                user: caller.user_id,
                source: import
                    .organisation_id
                    .map_or_else(|| "c".to_string(), |o| format!("o{o}")),
                today: app.today_in(territory.zone()),
            },
            mapping,
            scope,
            known: Known::new(names),
            above: Above::default(),
            create_duplicates,
        })
    }

    /// A row read: the partner's identifier as written (also for a refused row), and the file
    /// it would make or why it is refused.
    pub fn read(&self, row: &[String]) -> (String, Result<Candidate, String>) {
        (
            rows::cell(&self.mapping, row, ImportColumn::Identifiant).to_string(),
            rows::read(self.app, &self.ctx, &self.mapping, row),
        )
    }

    /// Reads and judges the rows of a chunk (each with its line in the file).
    pub async fn judge(&mut self, chunk: &[(usize, Vec<String>)]) -> Result<Vec<Judged>, AppError> {
        let read: Vec<(usize, String, Result<Candidate, String>)> = chunk
            .iter()
            .map(|(line, r)| {
                let (identifiant, candidate) = self.read(r);
                (*line, identifiant, candidate)
            })
            .collect();
        let keys: Vec<String> = read
            .iter()
            .filter_map(|(_, _, r)| r.as_ref().ok().map(|c| c.key.clone()))
            .collect();
        let mut pooled = self.app.db.acquire().await?;
        let imported =
            store::persons::imported(&mut pooled.conn(), self.ctx.territory, &keys).await?;
        let ids: Vec<PersonId> = imported.iter().map(|i| i.id).collect();
        let visible: HashSet<PersonId> =
            store::persons::visible(&mut pooled.conn(), &self.scope, &ids)
                .await?
                .into_iter()
                .collect();
        drop(pooled);
        let by_key: HashMap<&str, &store::persons::Imported> = imported
            .iter()
            .map(|i| (i.import_key.as_str(), i))
            .collect();
        let mut out = Vec::with_capacity(read.len());
        for (line, identifiant, candidate) in read {
            let verdict = match &candidate {
                Err(reason) => Verdict::Refused(reason.clone()),
                Ok(c) => {
                    let previous = match by_key.get(c.key.as_str()) {
                        None => Previous::None,
                        Some(i) if visible.contains(&i.id) => Previous::Visible {
                            id: i.id,
                            holder: i.holder,
                            same: i.import_digest.as_deref() == Some(c.digest.as_str()),
                        },
                        Some(_) => Previous::Hidden,
                    };
                    rows::judge(
                        &self.known,
                        &mut self.above,
                        c,
                        line,
                        previous,
                        self.create_duplicates,
                    )
                }
            };
            out.push(Judged {
                line,
                identifiant,
                candidate,
                verdict,
            });
        }
        Ok(out)
    }

    /// Checks the addresses of the rows to write against the QPV map (one bulk request to the
    /// geocoder per chunk); answers, per row, what the report says of it.
    pub async fn locate(&self, judged: &mut [Judged]) -> Vec<String> {
        let millesime = domain::Millesime::CURRENT;
        let mut queries = Vec::new();
        let mut asked = Vec::new();
        for (i, j) in judged.iter().enumerate() {
            if !j.verdict.writes() {
                continue;
            }
            if let Ok(c) = &j.candidate {
                let p = &c.person;
                if let Some(q) = crate::persons::outreach::qpv_query(
                    self.app,
                    &p.address,
                    &p.postal_code,
                    p.commune_insee.as_deref(),
                ) {
                    queries.push(q);
                    asked.push(i);
                }
            }
        }
        let mut texts = vec![String::new(); judged.len()];
        if queries.is_empty() {
            return texts;
        }
        let answers = crate::qpv::lookup_addresses(self.app, &queries, millesime).await;
        let now = self.app.now();
        match answers {
            Err(e) => {
                tracing::warn!(error = %e, "person import: geocoder unavailable");
                for i in asked {
                    texts[i] = "adresse non vérifiée (service d'adresses injoignable)".into();
                }
            }
            Ok(answers) => {
                for (i, answer) in asked.into_iter().zip(answers) {
                    let check = answer
                        .ok()
                        .and_then(|a| crate::persons::outreach::qpv_check(a, millesime, now));
                    texts[i] = match &check {
                        None => "adresse non trouvée".into(),
                        Some(QpvCheck {
                            code: Some(code), ..
                        }) => format!("dans le QPV {code}"),
                        Some(_) => "hors QPV".into(),
                    };
                    if let Ok(c) = &mut judged[i].candidate {
                        c.person.qpv = check;
                    }
                }
            }
        }
        texts
    }
}
