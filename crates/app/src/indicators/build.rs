//! The published tables from the counts, section by section: layout, masking, shares and
//! medians (docs/domain.md §5).

use super::table::{Raw, median, protect_together, sum};
use super::*;

fn step_columns() -> Vec<Column> {
    Step::ALL
        .iter()
        .map(|s| Column {
            label: s.label(),
            definition: s.definition(),
        })
        .collect()
}

/// The rows of the orientations tables, by grouping.
fn orientation_rows(g: OrientationGrouping) -> Vec<(&'static str, &'static str)> {
    match g {
        OrientationGrouping::Status | OrientationGrouping::Receiver => Vec::new(),
        OrientationGrouping::ReceiverKind => {
            let mut v: Vec<_> = domain::organisation::OrganisationKind::ALL
                .iter()
                .map(|k| (k.as_str(), k.label()))
                .collect();
            v.push(("hors-partenaires", "Hors des partenaires du territoire"));
            v
        }
        OrientationGrouping::Offer => vec![
            ("droit-commun", "Droit commun"),
            ("specifique", "Offre spécifique du territoire"),
            (
                "hors-annuaire",
                "Hors annuaire (structure saisie librement)",
            ),
        ],
    }
}

/// The published tables from the counts: layout, masking, shares and medians.
pub fn build(
    reach: Reach,
    label: String,
    (from, to): (NaiveDate, NaiveDate),
    counts: Counts,
    threshold: i64,
) -> Indicators {
    let one = matches!(reach, Reach::Territory(_));
    let mut tables = Vec::new();

    // The path: the funnel by each breakdown (and by territory side by side), sharing the
    // steps' totals; by cohort, whose rows overlap.
    let steps = step_columns();
    let mut group = Vec::new();
    let cube = &counts.cube;
    for (k, b) in Breakdown::ALL.iter().enumerate() {
        let mut found: Vec<CountRow> = Vec::new();
        for r in cube {
            match found.iter_mut().find(|f| f.value == r.values[k]) {
                Some(f) => f
                    .counts
                    .iter_mut()
                    .zip(&r.counts)
                    .for_each(|(a, b)| *a += b),
                None => found.push(CountRow {
                    value: r.values[k].clone(),
                    label: r.values[k].clone(),
                    counts: r.counts.clone(),
                }),
            }
        }
        group.push(
            Raw::new(
                format!("parcours-{}", b.as_str()),
                Section::Parcours,
                format!("Parcours par {}", lower(b.label())),
            )
            .describe(b.label(), b.definition())
            .columns(&steps, Margins::Columns, None)
            .rows_of(&b.values(), found),
        );
    }
    if !one {
        let names = &counts.territories;
        let mut found: Vec<CountRow> = Vec::new();
        for r in cube {
            let code = r.territory.0.to_string();
            match found.iter_mut().find(|f| f.value == code) {
                Some(f) => f
                    .counts
                    .iter_mut()
                    .zip(&r.counts)
                    .for_each(|(a, b)| *a += b),
                None => found.push(CountRow {
                    label: names
                        .iter()
                        .find(|(id, _)| *id == r.territory)
                        .map_or_else(|| code.clone(), |(_, n)| n.clone()),
                    value: code,
                    counts: r.counts.clone(),
                }),
            }
        }
        found.sort_by(|a, b| a.label.cmp(&b.label));
        group.push(
            Raw::new(
                "parcours-territoire",
                Section::Parcours,
                "Parcours par territoire",
            )
            .describe(
                "Territoire",
                "Chaque personne compte dans le territoire qui la suit.",
            )
            .columns(&steps, Margins::Columns, None)
            .rows_as_found(found),
        );
    }
    let path = protect_together(group, threshold);
    let funnel = Step::ALL
        .iter()
        .enumerate()
        .map(|(j, s)| {
            (
                *s,
                path.first()
                    .and_then(|t| t.published.column_totals.get(j).copied().flatten()),
            )
        })
        .collect();
    tables.extend(path);
    if one {
        let found = counts.cohorts.clone();
        tables.extend(protect_together(vec![
            Raw::new("parcours-cohorte", Section::Parcours, "Parcours par cohorte")
                .describe(
                    "Cohorte",
                    "Les personnes qui ont fait partie de la cohorte, à un moment ou à un autre ; une personne passée par deux cohortes compte dans les deux, si bien qu'aucun total n'est publié.",
                )
                .columns(&steps, Margins::None, None)
                .rows_as_found(found),
        ], threshold));
    }

    // Barriers, per field, over the persons first diagnosed in the period.
    let (diagnosed, found) = (counts.first_diagnosed, counts.barriers.clone());
    let mut barriers = Raw::new("freins", Section::Freins, "Freins périphériques par domaine")
        .describe(
            "Domaine",
            "Les personnes dont le premier diagnostic signé a été tenu pendant la période, selon ce qu'il relevait dans chaque domaine et ce qu'en dit leur dernier diagnostic.",
        )
        .columns(&def::BARRIER_COLUMNS, Margins::Rows, Some(def::FIRST_DIAGNOSED));
    barriers.equal_totals = true;
    for f in domain::field::Field::ALL {
        let (had, lifted) = found
            .iter()
            .find(|r| r.value == f.as_str())
            .map_or((0, 0), |r| (r.counts[0], r.counts[1]));
        barriers
            .rows
            .push((f.as_str().to_string(), f.label().to_string()));
        barriers
            .cells
            .push(vec![lifted, had - lifted, (diagnosed - had).max(0)]);
    }
    let mut barriers = protect_together(vec![barriers], threshold);
    for t in &mut barriers {
        let p = &t.published;
        let had: Vec<Option<i64>> = p.cells.iter().map(|r| sum(&r[..2])).collect();
        t.extras = vec![
            Extra {
                column: Column {
                    label: "Part des personnes diagnostiquées ayant ce frein",
                    definition: "Frein levé depuis et frein toujours présent, rapportés aux premiers diagnostics.",
                },
                values: had
                    .iter()
                    .zip(&p.row_totals)
                    .map(|(h, n)| share(*h, *n))
                    .collect(),
                total: String::new(),
            },
            Extra {
                column: Column {
                    label: "Part des freins levés",
                    definition: "Frein levé depuis, rapporté aux personnes qui avaient ce frein au premier diagnostic.",
                },
                values: p
                    .cells
                    .iter()
                    .zip(&had)
                    .map(|(r, h)| share(r[0], *h))
                    .collect(),
                total: String::new(),
            },
        ];
    }
    tables.extend(barriers);

    // Orientations sent in the period, by receiver and by offer (sharing the outcomes' totals),
    // then the reasons of the declined ones.
    let outcomes: Vec<Column> = def::ORIENTATION_OUTCOMES.iter().map(|o| o.column).collect();
    let receiver = if one {
        OrientationGrouping::Receiver
    } else {
        OrientationGrouping::ReceiverKind
    };
    let mut group = Vec::new();
    let mut histograms = Vec::new();
    for ((g, key, title, header, definition), oriented_counts) in [
        (
            receiver,
            "orientations-structure",
            "Orientations par structure d'accueil",
            if one {
                "Structure d'accueil"
            } else {
                "Type de structure d'accueil"
            },
            "La structure à laquelle l'orientation a été adressée.",
        ),
        (
            OrientationGrouping::Offer,
            "orientations-offre",
            "Orientations par type d'offre",
            "Offre",
            "Le service de l'annuaire vers lequel la personne est orientée : droit commun, ou offre propre au territoire.",
        ),
    ]
    .into_iter()
    .zip(counts.orientations.iter().cloned())
    {
        let (found, answer, entry) = oriented_counts;
        let raw = Raw::new(key, Section::Orientations, title)
            .describe(header, definition)
            .columns(&outcomes, Margins::All, Some(def::ORIENTATIONS_SENT));
        let rows = orientation_rows(g);
        group.push(if rows.is_empty() {
            raw.rows_as_found(found)
        } else {
            raw.rows_of(&rows, found)
        });
        histograms.push((answer, entry));
    }
    let mut oriented = protect_together(group, threshold);
    for (t, (answer, entry)) in oriented.iter_mut().zip(histograms) {
        let of = |delays: &[store::indicators::Delay], code: Option<&str>| -> Vec<(i64, i64)> {
            let mut h: Vec<(i64, i64)> = delays
                .iter()
                .filter(|d| code.is_none_or(|c| d.value == c))
                .map(|d| (d.days, d.n))
                .collect();
            h.sort_unstable();
            h
        };
        let entered = 0;
        let p = &t.published;
        t.extras = vec![
            Extra {
                column: Column {
                    label: "Part d'entrées effectives",
                    definition: "Entrées effectives rapportées aux orientations envoyées.",
                },
                values: p
                    .cells
                    .iter()
                    .zip(&p.row_totals)
                    .map(|(r, n)| share(r[entered], *n))
                    .collect(),
                total: share(p.column_totals[entered], p.total),
            },
            Extra {
                column: Column {
                    label: "Délai médian de réponse (jours)",
                    definition: "Jours entre l'envoi et la réponse de la structure (acceptation ou refus), la moitié des orientations répondues l'ayant été plus vite ; publié à partir de 5 orientations répondues.",
                },
                values: t
                    .rows
                    .iter()
                    .map(|(code, _)| median(&of(&answer, Some(code)), threshold))
                    .collect(),
                total: median(&of(&answer, None), threshold),
            },
            Extra {
                column: Column {
                    label: "Délai médian d'entrée (jours)",
                    definition: "Jours entre l'envoi et l'entrée effective de la personne, pour les orientations suivies d'une entrée ; publié à partir de 5 entrées.",
                },
                values: t
                    .rows
                    .iter()
                    .map(|(code, _)| median(&of(&entry, Some(code)), threshold))
                    .collect(),
                total: median(&of(&entry, None), threshold),
            },
        ];
    }
    tables.extend(oriented);
    let found = counts.reasons.clone();
    let reasons: Vec<(&str, &str)> = domain::orientation::DeclineReason::ALL
        .iter()
        .map(|r| (r.as_str(), r.label()))
        .collect();
    tables.extend(protect_together(vec![
        Raw::new("orientations-motifs", Section::Orientations, "Motifs de refus des orientations")
            .describe(
                "Motif",
                "Une orientation déclinée peut donner plusieurs motifs : elle compte pour chacun, si bien qu'aucun total n'est publié.",
            )
            .columns(&def::DECLINE_COLUMNS, Margins::None, None)
            .rows_of(&reasons, found),
    ], threshold));

    // Collective actions: registrations by attendance; the number of actions is not secret.
    let found = counts.actions.clone();
    let kinds: Vec<(&str, &str)> = domain::cohort::ActionKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.label()))
        .collect();
    let held: Vec<i64> = kinds
        .iter()
        .map(|(code, _)| {
            found
                .iter()
                .find(|r| r.value == *code)
                .map_or(0, |r| r.counts[0])
        })
        .collect();
    let attendance: Vec<CountRow> = found
        .into_iter()
        .map(|r| {
            let (registered, present, absent, excused) =
                (r.counts[1], r.counts[2], r.counts[3], r.counts[4]);
            CountRow {
                counts: vec![
                    present,
                    absent,
                    excused,
                    (registered - present - absent - excused).max(0),
                ],
                ..r
            }
        })
        .collect();
    let mut actions = protect_together(vec![
        Raw::new("actions", Section::Actions, "Actions collectives par type")
            .describe(
                "Type d'action",
                "Les actions collectives tenues pendant la période et la présence de leurs inscrits.",
            )
            .columns(&def::ACTION_COLUMNS, Margins::All, Some(def::ACTION_REGISTRATIONS))
            .rows_of(&kinds, attendance),
    ], threshold);
    for t in &mut actions {
        let p = &t.published;
        let absence = |r: &[Option<i64>]| share(sum(&r[1..3]), sum(&r[..3]));
        t.extras = vec![
            Extra {
                column: Column {
                    label: "Actions tenues",
                    definition: "Actions de ce type tenues pendant la période (des évènements, pas des personnes : jamais masqué).",
                },
                values: held.iter().map(i64::to_string).collect(),
                total: held.iter().sum::<i64>().to_string(),
            },
            Extra {
                column: Column {
                    label: "Taux d'absence",
                    definition: "Absents et excusés, rapportés aux inscrits dont la présence a été relevée.",
                },
                values: p.cells.iter().map(|r| absence(r)).collect(),
                total: absence(&p.column_totals),
            },
        ];
    }
    tables.extend(actions);

    // Employers (companies, not people: not masked).
    let found = counts.engagements.clone();
    let engagements: Vec<(&str, &str)> = domain::employer::Engagement::ALL
        .iter()
        .map(|k| (k.as_str(), k.label()))
        .collect();
    let mut employers = Raw::new("employeurs", Section::Employeurs, "Engagement des employeurs")
        .describe(
            "Type d'engagement",
            "Les engagements des employeurs pendant la période. Un employeur engagé de plusieurs façons compte pour chacune, si bien qu'aucun total n'est publié ; ce sont des entreprises, pas des personnes : rien n'est masqué.",
        )
        .columns(&def::EMPLOYER_COLUMNS, Margins::None, None)
        .rows_of(&engagements, found);
    employers.secret = false;
    tables.extend(protect_together(vec![employers], threshold));

    // Partners: what each organisation did in the period.
    let found = counts.partners.clone();
    let partners = Raw::new("partenaires", Section::Partenaires, "Activité des partenaires")
        .describe(
            if one { "Organisation" } else { "Type d'organisation" },
            "Une personne suivie par plusieurs organisations compte pour chacune, si bien qu'aucun total n'est publié.",
        )
        .columns(&def::PARTNER_COLUMNS, Margins::None, None);
    let partners = if one {
        partners.rows_as_found(found)
    } else {
        let kinds: Vec<(&str, &str)> = domain::organisation::OrganisationKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect();
        partners.rows_of(&kinds, found)
    };
    tables.extend(protect_together(vec![partners], threshold));

    // The situation 3, 6 and 12 months after the exit.
    let found = counts.follow_up.clone();
    let months: Vec<(String, String)> = domain::exit::CHECK_MONTHS
        .iter()
        .map(|m| (m.to_string(), format!("À {m} mois")))
        .collect();
    let months: Vec<(&str, &str)> = months
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let mut follow_up = protect_together(vec![
        Raw::new("suivi", Section::Suivi, "Situation après la sortie")
            .describe(
                "Échéance",
                "Les contrôles de situation arrivés à échéance pendant la période, 3, 6 et 12 mois après une sortie ; une même personne compte à chaque échéance, si bien que les colonnes n'ont pas de total.",
            )
            .columns(&def::follow_up_columns(), Margins::Rows, Some(def::CHECKS_DUE))
            .rows_of(&months, found),
    ], threshold);
    for t in &mut follow_up {
        let p = &t.published;
        let last = t.columns.len() - 1;
        t.extras = vec![Extra {
            column: Column {
                label: "Part en emploi",
                definition: "Personnes dans le même emploi ou dans un autre, rapportées aux contrôles faits.",
            },
            values: p
                .cells
                .iter()
                .zip(&p.row_totals)
                .map(|(r, n)| {
                    let done = match (n, r[last]) {
                        (Some(n), Some(todo)) => Some(n - todo),
                        _ => None,
                    };
                    share(sum(&r[..2]), done)
                })
                .collect(),
            total: String::new(),
        }];
    }
    tables.extend(follow_up);
    Indicators {
        reach,
        label,
        from,
        to,
        funnel,
        tables,
        threshold,
        as_of: None,
    }
}

/// « Sexe » → « sexe », « Reconnaissance de handicap (RQTH) » kept as it is after its first
/// letter.
fn lower(label: &str) -> String {
    let mut chars = label.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}
