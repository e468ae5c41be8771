//! « Groupe de suivi »: who follows the person, and for those who manage it, adding a member,
//! ending a membership, changing the référent.

use app::models::Member;
use app::persons::Sight;
use askama::Template;
use domain::person::MemberEndReason;

use super::{FileContext, FileForm};
use crate::forms::Field;
use crate::persons::team_options;

struct MemberView {
    id: i64,
    name: String,
    organisation: String,
    referent: bool,
    health: bool,
    since: String,
    ended: Option<String>,
}

fn member_view(m: &Member) -> MemberView {
    MemberView {
        id: m.id.0,
        name: m.user_name.clone(),
        organisation: m
            .organisation_name
            .clone()
            .unwrap_or_else(|| "Coordination".into()),
        referent: m.is_referent,
        health: m.health_access,
        since: m.started_at.format("%d/%m/%Y").to_string(),
        ended: m.ended_at.map(|e| {
            let reason = m
                .end_reason
                .as_deref()
                .and_then(MemberEndReason::from_code)
                .map_or("", MemberEndReason::label);
            format!("le {} — {reason}", e.format("%d/%m/%Y"))
        }),
    }
}

#[derive(Template)]
#[template(path = "persons/panels/group.html")]
struct GroupPanel<'a> {
    id: i64,
    csrf: &'a str,
    members: Vec<MemberView>,
    manages: bool,
    group_form: Vec<Field>,
    referent_form: Vec<Field>,
    end_reasons: Vec<(String, String)>,
}

pub(super) fn panel(ctx: &FileContext) -> Option<askama::Result<String>> {
    if ctx.file.access.sight() != Sight::Full {
        return None;
    }
    let current: Vec<i64> = ctx
        .file
        .members
        .iter()
        .filter(|m| m.ended_at.is_none())
        .map(|m| m.user_id)
        .collect();
    let candidates = team_options(ctx.team.iter().filter(|m| !current.contains(&m.user_id.0)));
    let everyone = team_options(ctx.team);
    let group_errors = ctx.errors(FileForm::Group);
    let referent_errors = ctx.errors(FileForm::Referent);
    Some(
        GroupPanel {
            id: ctx.id(),
            csrf: ctx.csrf,
            members: ctx.file.members.iter().map(member_view).collect(),
            manages: ctx.file.access.manages_group(),
            group_form: vec![
                Field::select(
                    "user",
                    "Professionnel à ajouter",
                    &ctx.typed(FileForm::Group, "user").unwrap_or_default(),
                    candidates,
                )
                .required()
                .errors(&group_errors),
            ],
            referent_form: vec![
                Field::select(
                    "referent",
                    "Nouveau référent",
                    &ctx.typed(FileForm::Referent, "referent")
                        .unwrap_or_default(),
                    everyone,
                )
                .required()
                .errors(&referent_errors),
            ],
            end_reasons: MemberEndReason::options(),
        }
        .render(),
    )
}
