//! One row of a partner's list: read into a file to create (with the same checks as the
//! repérage form), then judged against the files already held and the rows above it.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use domain::person::{AgeBand, OutreachChannel};
use domain::person_import::{ImportColumn, heading_key};
use domain::text::fold;
use domain::{Field, PersonId, TerritoryId, UserId};
use store::persons::{NameRow, NewPerson};

use super::mapping::Mapping;
use crate::FieldErrors;
use crate::persons::{OutreachInput, contact, past_date};

/// What every row of one import shares.
pub(super) struct Context {
    pub territory: TerritoryId,
    pub user: UserId,
    /// Who the rows come from: `o<organisation>` or `c` (the coordination).
    pub source: String,
    pub today: NaiveDate,
}

/// A row read into a file.
pub(super) struct Candidate {
    pub identifiant: String,
    /// Which row of which partner this is (see [`key_of`]).
    pub key: String,
    /// A digest of the row's mapped cells: the same digest, the same row.
    pub digest: String,
    pub person: NewPerson,
    pub birth_date: Option<NaiveDate>,
    /// Whether the row says anything of recontact (an empty cell reads « non » for a new
    /// file, and changes nothing in a file held).
    pub recontact_given: bool,
}

const NAME_MAX: usize = 100;
const NEEDS_MAX: usize = 2000;

/// The text of a row's cell for a column (empty when unmapped or missing).
pub(super) fn cell<'r>(mapping: &Mapping, row: &'r [String], column: ImportColumn) -> &'r str {
    mapping
        .get(column)
        .and_then(|i| row.get(i))
        .map_or("", |s| s.trim())
}

/// The identity a row is known by across imports: the partner's own identifier when the file
/// has one, else the folded name and birth date.
pub(super) fn key_of(
    source: &str,
    identifiant: &str,
    folded_name: &str,
    birth: Option<NaiveDate>,
) -> String {
    if identifiant.is_empty() {
        let birth = birth.map(domain::iso_date).unwrap_or_default();
        format!("{source}:nom:{folded_name}:{birth}")
    } else {
        format!("{source}:id:{identifiant}")
    }
}

/// Reads a row; `Err` holds the reasons it is refused, in French, column by column.
pub(super) fn read(
    app: &crate::App,
    ctx: &Context,
    mapping: &Mapping,
    row: &[String],
) -> Result<Candidate, String> {
    let get = |c| cell(mapping, row, c);
    let mut reasons: Vec<String> = Vec::new();
    let mut refuse = |column: ImportColumn, message: &str| {
        reasons.push(format!(
            "{} : {}",
            column.label(),
            message.trim_end_matches('.')
        ));
    };
    let first_name = get(ImportColumn::Prenom);
    let last_name = get(ImportColumn::Nom);
    if first_name.is_empty() {
        refuse(ImportColumn::Prenom, "la cellule est vide");
    }
    for (column, value) in [
        (ImportColumn::Prenom, first_name),
        (ImportColumn::Nom, last_name),
    ] {
        if value.chars().count() > NAME_MAX {
            refuse(column, &format!("plus de {NAME_MAX} caractères"));
        }
    }
    let mut errors = FieldErrors::default();
    let typed = OutreachInput {
        phone: get(ImportColumn::Telephone).to_string(),
        email: get(ImportColumn::Courriel).to_string(),
        address: get(ImportColumn::Adresse).to_string(),
        postal_code: get(ImportColumn::CodePostal).to_string(),
        commune: get(ImportColumn::Commune).to_string(),
        ..OutreachInput::default()
    };
    let c = contact(app, &mut errors, &typed);
    let met_on = match get(ImportColumn::DateReperage) {
        "" => Some(ctx.today),
        text => past_date(&mut errors, "met_on", text, ctx.today),
    };
    for (field, message) in errors.iter() {
        let column = match field {
            "phone" => ImportColumn::Telephone,
            "email" => ImportColumn::Courriel,
            "postal_code" => ImportColumn::CodePostal,
            "commune" => ImportColumn::Commune,
            _ => ImportColumn::DateReperage,
        };
        refuse(column, message);
    }
    let on = met_on.unwrap_or(ctx.today);
    let birth_date = match get(ImportColumn::DateNaissance) {
        "" => None,
        text => match domain::parse_date(text) {
            Ok(d) if d > ctx.today => {
                refuse(ImportColumn::DateNaissance, "la date est dans le futur");
                None
            }
            Ok(d) if !(on.year() - 100..=on.year() - 14).contains(&d.year()) => {
                refuse(
                    ImportColumn::DateNaissance,
                    &format!(
                        "l'année doit être entre {} et {}",
                        on.year() - 100,
                        on.year() - 14
                    ),
                );
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                refuse(ImportColumn::DateNaissance, &e.0);
                None
            }
        },
    };
    let channel = match get(ImportColumn::Canal) {
        "" => Some(OutreachChannel::Partenaire),
        text => {
            let key = heading_key(text);
            let found = OutreachChannel::ALL
                .iter()
                .copied()
                .find(|c| heading_key(c.as_str()) == key || heading_key(c.label()) == key);
            if found.is_none() {
                refuse(
                    ImportColumn::Canal,
                    &format!(
                        "« {text} » n'est pas un canal connu (par exemple « {} » ou « {} »)",
                        OutreachChannel::Partenaire.label(),
                        OutreachChannel::PiedImmeuble.label()
                    ),
                );
            }
            found
        }
    };
    let needs = get(ImportColumn::Besoins);
    if needs.chars().count() > NEEDS_MAX {
        refuse(
            ImportColumn::Besoins,
            &format!(
                "plus de {} caractères",
                crate::spreadsheet::format_count(NEEDS_MAX as u64)
            ),
        );
    }
    let mut need_fields = Vec::new();
    for part in get(ImportColumn::Champs)
        .split([',', ';', '|', '/', '+'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let key = heading_key(part);
        match Field::ALL
            .iter()
            .copied()
            .find(|f| heading_key(f.as_str()) == key || heading_key(f.label()) == key)
        {
            Some(Field::SanteHandicap) => refuse(
                ImportColumn::Champs,
                "« Santé et handicap » ne s'importe pas : notez-le dans le dossier, où il reste réservé aux personnes autorisées",
            ),
            Some(f) => need_fields.push(f),
            None => refuse(
                ImportColumn::Champs,
                &format!("« {part} » n'est pas l'un des huit champs d'action"),
            ),
        }
    }
    need_fields.sort();
    need_fields.dedup();
    let agrees = match heading_key(get(ImportColumn::Recontact)).as_str() {
        "" | "non" | "n" | "0" | "faux" | "false" | "no" => Some(false),
        "oui" | "o" | "x" | "1" | "vrai" | "true" | "yes" => Some(true),
        _ => {
            refuse(ImportColumn::Recontact, "répondez par « oui » ou « non »");
            None
        }
    };
    let (Some(met_on), Some(channel), Some(agrees)) = (met_on, channel, agrees) else {
        return Err(reasons.join(" ; "));
    };
    if !reasons.is_empty() {
        return Err(reasons.join(" ; "));
    }
    let folded_name = fold(&format!("{first_name} {last_name}"))
        .trim()
        .to_string();
    let identifiant = get(ImportColumn::Identifiant).to_string();
    let key = key_of(&ctx.source, &identifiant, &folded_name, birth_date);
    let mut digested = String::new();
    for (column, _) in mapping.columns() {
        digested.push_str(column.as_str());
        digested.push('\u{1f}');
        digested.push_str(get(column));
        digested.push('\u{1e}');
    }
    let (birth_year, age_band) = match birth_date {
        Some(d) => {
            let age =
                on.year() - d.year() - i32::from((on.month(), on.day()) < (d.month(), d.day()));
            (Some(d.year()), AgeBand::of_age(age))
        }
        None => (None, None),
    };
    Ok(Candidate {
        identifiant,
        key,
        digest: crate::secrets::sha256_hex(digested.as_bytes()),
        person: NewPerson {
            territory: ctx.territory,
            first_name: first_name.to_string(),
            last_name: last_name.to_string(),
            folded_name,
            phone: c.phone,
            email: c.email,
            address: c.address,
            postal_code: c.postal_code,
            commune_insee: c.commune,
            neighbourhood: String::new(),
            qpv: None,
            channel,
            place: String::new(),
            met_on,
            met_by: Some(ctx.user),
            needs: needs.to_string(),
            need_fields,
            agrees_recontact: agrees,
            age_band,
            birth_year,
        },
        birth_date,
        recontact_given: !get(ImportColumn::Recontact).is_empty(),
    })
}

/// What becomes of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A new file (`note`: created although it looked like another one).
    Create {
        note: Option<String>,
    },
    /// The row was imported before and changed since: its file `id` is brought up to date
    /// (`holder`, the file it was imported into, keeps its key: the same unless merged since).
    Update {
        id: PersonId,
        holder: PersonId,
    },
    /// The row was imported before, the same.
    Unchanged(PersonId),
    /// Not created: it looks like a file already held, or like a row above it.
    Duplicate {
        of: Option<PersonId>,
        why: String,
    },
    Refused(String),
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Create { .. } => "création",
            Verdict::Update { .. } => "mise à jour",
            Verdict::Unchanged(_) => "inchangée",
            Verdict::Duplicate { .. } => "doublon probable",
            Verdict::Refused(_) => "refusée",
        }
    }

    pub fn person(&self) -> Option<PersonId> {
        match self {
            Verdict::Update { id, .. } | Verdict::Unchanged(id) => Some(*id),
            Verdict::Duplicate { of, .. } => *of,
            Verdict::Create { .. } | Verdict::Refused(_) => None,
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Verdict::Create { note } => note.as_deref().unwrap_or(""),
            Verdict::Duplicate { why, .. } | Verdict::Refused(why) => why,
            Verdict::Update { .. } | Verdict::Unchanged(_) => "",
        }
    }

    /// Whether the import writes something for this row.
    pub fn writes(&self) -> bool {
        matches!(self, Verdict::Create { .. } | Verdict::Update { .. })
    }
}

/// The 64-bit digest a text is remembered by (whole texts would take several times the
/// memory for a list of 100 000 rows; a collision between two of them is one in 10^10).
fn digest(parts: &[&str]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// The files already held that a row may be the same person as (those the importer may see:
/// the same need-to-know as the repérage form), by exact telephone, e-mail, name and birth
/// date, or name.
#[derive(Default)]
pub(super) struct Known {
    phone: HashMap<u64, PersonId>,
    email: HashMap<u64, PersonId>,
    name_birth: HashMap<u64, PersonId>,
    name: HashMap<u64, PersonId>,
}

impl Known {
    pub fn new(rows: Vec<NameRow>) -> Known {
        let mut k = Known::default();
        for r in rows {
            if let Some(p) = &r.phone {
                k.phone.entry(digest(&[p])).or_insert(r.id);
            }
            if let Some(e) = &r.email {
                k.email.entry(digest(&[e])).or_insert(r.id);
            }
            if let Some(b) = &r.birth_date {
                k.name_birth
                    .entry(digest(&[&r.folded_name, b]))
                    .or_insert(r.id);
            }
            k.name.entry(digest(&[&r.folded_name])).or_insert(r.id);
        }
        k
    }

    fn find(&self, c: &Candidate) -> Option<(PersonId, &'static str)> {
        let p = &c.person;
        if let Some(id) = p.phone.as_ref().and_then(|x| self.phone.get(&digest(&[x]))) {
            return Some((*id, "même téléphone"));
        }
        if let Some(id) = p.email.as_ref().and_then(|x| self.email.get(&digest(&[x]))) {
            return Some((*id, "même courriel"));
        }
        if let Some(id) = c.birth_date.and_then(|b| {
            self.name_birth
                .get(&digest(&[&p.folded_name, &domain::iso_date(b)]))
        }) {
            return Some((*id, "même nom et même date de naissance"));
        }
        self.name
            .get(&digest(&[&p.folded_name]))
            .map(|id| (*id, "même nom"))
    }
}

/// The rows already judged in this file, to catch a person listed twice (by line).
#[derive(Default)]
pub(super) struct Above {
    key: HashMap<u64, usize>,
    phone: HashMap<u64, usize>,
    email: HashMap<u64, usize>,
    name: HashMap<u64, usize>,
}

impl Above {
    fn find(&self, c: &Candidate) -> Option<(usize, &'static str)> {
        let p = &c.person;
        if let Some(line) = p.phone.as_ref().and_then(|x| self.phone.get(&digest(&[x]))) {
            return Some((*line, "même téléphone"));
        }
        if let Some(line) = p.email.as_ref().and_then(|x| self.email.get(&digest(&[x]))) {
            return Some((*line, "même courriel"));
        }
        self.name
            .get(&digest(&[&p.folded_name]))
            .map(|line| (*line, "même nom"))
    }

    fn remember(&mut self, c: &Candidate, line: usize) {
        self.key.entry(digest(&[&c.key])).or_insert(line);
        if let Some(p) = &c.person.phone {
            self.phone.entry(digest(&[p])).or_insert(line);
        }
        if let Some(e) = &c.person.email {
            self.email.entry(digest(&[e])).or_insert(line);
        }
        self.name
            .entry(digest(&[&c.person.folded_name]))
            .or_insert(line);
    }
}

/// Where the row's key was already imported, as the importer may see it.
pub(super) enum Previous {
    None,
    Visible {
        holder: PersonId,
        id: PersonId,
        same: bool,
    },
    /// Imported into a file the importer no longer follows.
    Hidden,
}

/// Judges a row read at file line `line`, then remembers it for the rows below.
pub(super) fn judge(
    known: &Known,
    above: &mut Above,
    c: &Candidate,
    line: usize,
    previous: Previous,
    create_duplicates: bool,
) -> Verdict {
    if let Some(first) = above.key.get(&digest(&[&c.key])) {
        return Verdict::Refused(if c.identifiant.is_empty() {
            format!(
                "même nom et même date de naissance qu'à la ligne {first} : la personne est déjà dans le fichier"
            )
        } else {
            format!("même identifiant qu'à la ligne {first}")
        });
    }
    let verdict = match previous {
        Previous::Hidden => Verdict::Refused(
            "déjà importée dans un dossier que vous ne suivez plus : demandez à la coordination"
                .into(),
        ),
        Previous::Visible { id, same: true, .. } => Verdict::Unchanged(id),
        Previous::Visible {
            id,
            holder,
            same: false,
        } => Verdict::Update { id, holder },
        Previous::None => {
            let duplicate = match (known.find(c), above.find(c)) {
                (Some((id, why)), _) => {
                    Some((Some(id), format!("{why} que le dossier n° {}", id.0)))
                }
                (None, Some((first, why))) => Some((None, format!("{why} qu'à la ligne {first}"))),
                (None, None) => None,
            };
            match duplicate {
                Some((_, why)) if create_duplicates => Verdict::Create {
                    note: Some(format!("créée malgré un doublon probable ({why})")),
                },
                Some((of, why)) => Verdict::Duplicate { of, why },
                None => Verdict::Create { note: None },
            }
        }
    };
    above.remember(c, line);
    verdict
}
