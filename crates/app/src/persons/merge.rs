//! Merging duplicates: a coordinator moves everything of one file onto another.

use domain::PersonId;
use domain::person::FileEvent;

use super::access::FileWrite;
use crate::{App, AppError, Caller};

/// A coordinator merges `from` into `into`: all history kept on `into`, `from` disappears.
pub async fn merge(
    app: &App,
    caller: &Caller,
    into: PersonId,
    from: PersonId,
) -> Result<(), AppError> {
    if into == from {
        return Err(AppError::field(
            "from",
            "Choisissez un autre dossier que celui-ci.",
        ));
    }
    let page = format!("/personnes/{}/fusion", into.0);
    let w = FileWrite::open(app, caller, into, FileEvent::Merge, &page).await?;
    let a = w.caps();
    let (mut w, b) = w
        .also(
            from,
            &page,
            format!("fusionné dans le dossier n° {}", into.0),
        )
        .await?;
    if !a.is_coordinator() || !b.is_coordinator() || a.territory() != b.territory() {
        return Err(AppError::Forbidden);
    }
    let now = w.now();
    store::persons::merge(&mut w.conn(), into, from, now).await?;
    w.commit(&format!("dossier n° {} fusionné dans celui-ci", from.0))
        .await?;
    Ok(())
}
