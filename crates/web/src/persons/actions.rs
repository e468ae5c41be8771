//! The forms posted from a file page: status, journal, group, référent, consent, health. Each
//! comes back to the file with its message, or shows the file again with the form's errors.

use axum::extract::{Path, State};
use axum::response::Response;

use app::persons::{self, EntryForm};
use domain::{CheckId, GroupMemberId, PersonId};

use super::Message;
use super::file::{FileForm, after};
use crate::forms::{Pairs, decode, one};
use crate::session::{CsrfForm, CurrentUser};
use crate::{AppState, WebError};

pub async fn set_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let outcome = persons::set_status(
        &state.app,
        &user.caller,
        id,
        &one(&pairs, "status"),
        &one(&pairs, "on"),
        &decode::<app::exits::ExitInput>(&pairs)?,
    )
    .await;
    after(
        &state,
        &user,
        id,
        FileForm::Status,
        pairs,
        outcome,
        Message::StatusChanged,
    )
    .await
}

pub async fn add_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let form: EntryForm = decode(&pairs)?;
    let outcome = persons::add_entry(&state.app, &user.caller, id, &form).await;
    after(
        &state,
        &user,
        id,
        FileForm::Journal,
        pairs,
        outcome,
        Message::Journal,
    )
    .await
}

pub async fn add_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let outcome = persons::add_member(
        &state.app,
        &user.caller,
        id,
        &one(&pairs, "user"),
        one(&pairs, "health_access") == "1",
    )
    .await;
    after(
        &state,
        &user,
        id,
        FileForm::Group,
        pairs,
        outcome,
        Message::Group,
    )
    .await
}

pub async fn end_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, member)): Path<(PersonId, GroupMemberId)>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let outcome =
        persons::end_member(&state.app, &user.caller, id, member, &one(&pairs, "reason")).await;
    after(
        &state,
        &user,
        id,
        FileForm::Group,
        pairs,
        outcome,
        Message::Group,
    )
    .await
}

pub async fn change_referent(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let outcome =
        persons::change_referent(&state.app, &user.caller, id, &one(&pairs, "referent")).await;
    after(
        &state,
        &user,
        id,
        FileForm::Referent,
        pairs,
        outcome,
        Message::Group,
    )
    .await
}

pub async fn revoke_consent(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let outcome = persons::revoke_consent(&state.app, &user.caller, id)
        .await
        .map(|_| ());
    after(
        &state,
        &user,
        id,
        FileForm::Consent,
        pairs,
        outcome,
        Message::ConsentWithdrawn,
    )
    .await
}

pub async fn set_health(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<PersonId>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: persons::HealthInput = decode(&pairs)?;
    let outcome = persons::set_health(&state.app, &user.caller, id, &input).await;
    after(
        &state,
        &user,
        id,
        FileForm::Health,
        pairs,
        outcome,
        Message::Health,
    )
    .await
}

pub async fn answer_check(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, check)): Path<(PersonId, CheckId)>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<Response, WebError> {
    let input: app::exits::CheckInput = decode(&pairs)?;
    let outcome = app::exits::answer(&state.app, &user.caller, id, check, &input).await;
    after(
        &state,
        &user,
        id,
        FileForm::Check,
        pairs,
        outcome,
        Message::CheckRecorded,
    )
    .await
}
