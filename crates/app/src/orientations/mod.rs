//! Closed-loop orientations (`docs/domain.md` §10): a member of the follow-up group sends the
//! person to a service or a partner organisation, within the consent; the receiving
//! organisation studies, accepts or declines from its inbox — or through a magic link when it
//! has no account; the person's entry and its outcome close the loop. Every change goes
//! through `domain::orientation`'s state machine, is logged, audited on the person's file and
//! notified by mail after commit; reminders and expiry are the job queue's.

mod decide;
mod links;
mod lists;
mod notices;
mod send;
mod sweep;
mod view;

pub(crate) use decide::cancel_open;
pub use decide::{DecisionInput, decide};
pub use links::{LinkPage, LinkState, link_decide, link_page, renew_link};
pub use lists::{Inbox, ListInput, ListKind, PER_PAGE, Waiting, answers_within, list, waiting};
pub(crate) use notices::digest;
pub use notices::{DelaysInput, NoticeSettings, notice_settings, set_delays, set_notice_mode};
pub use send::{Receiver, SendForm, SendInput, send, send_form};
pub use sweep::{Swept, sweep};
pub use view::{ChainLink, OrientationPage, PersonHead, orientation};

use domain::{OrganisationId, OrientationId};
use store::orientations::OrientationRow;

use crate::{App, AppError, Caller};

/// The page of an orientation.
pub fn path(id: OrientationId) -> String {
    format!("/orientations/{}", id.0)
}

/// Whether the caller works for the receiving organisation, in the orientation's territory.
fn receives(caller: &Caller, row: &OrientationRow) -> bool {
    row.receiver_org_id.is_some_and(|org| {
        caller
            .organisations_in(row.territory_id)
            .contains(&OrganisationId(org))
    })
}

/// The receiver keeps its limited view while the orientation is not over.
fn receiving(caller: &Caller, row: &OrientationRow) -> bool {
    receives(caller, row) && !row.status.is_final()
}

async fn load(app: &App, id: OrientationId) -> Result<OrientationRow, AppError> {
    let mut pooled = app.db.acquire().await?;
    store::orientations::get(&mut pooled.conn(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// « il y a N jours » as a number of whole days between two instants.
fn days_between(from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>) -> i64 {
    (to - from).num_days().max(0)
}
