//! Whether a choice a browser still holds stands: the answer to the banner's revalidation
//! (`GET /v1/receipts/{id}/state`). A choice stops standing when its record was erased (by an
//! admin or a rights request), when a later record of the same subject withdraws it (a rights
//! request, or a withdrawal posted through the API), or when its receipt is unknown (never
//! recorded here, or purged at the end of its retention). The answer names no purpose and no
//! person: whoever holds the receipt id (the browser's own bearer secret) learns one word.

use serde::Serialize;

use crate::App;
use crate::error::AppResult;

/// The state of a stored choice, as the banner reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceState {
    /// The record stands, and no later record of its subject withdraws it.
    Valid,
    /// A later record of the same subject and site withdraws consent.
    Withdrawn,
    /// The record was erased.
    Erased,
    /// No such record.
    Unknown,
}

impl ChoiceState {
    /// The browser must drop the stored choice (its grants and its cookie).
    pub fn drop(self) -> bool {
        self != ChoiceState::Valid
    }
}

/// The state of the choice recorded under receipt `id`.
pub async fn state(st: &App, id: &str) -> AppResult<ChoiceState> {
    let Some((row, _)) = st.store.consent_by_receipt(id).await? else {
        return Ok(match st.store.consent_erased_at(id).await? {
            Some(_) => ChoiceState::Erased,
            None => ChoiceState::Unknown,
        });
    };
    // Newest first: every record listed before this one came after it.
    let later = st
        .store
        .consents_by_subject(&row.site, &row.subject)
        .await?;
    let withdrawn = later
        .iter()
        .take_while(|(c, _)| c.receipt_id != row.receipt_id)
        .any(|(c, _)| c.action == "withdraw");
    Ok(match withdrawn {
        true => ChoiceState::Withdrawn,
        false => ChoiceState::Valid,
    })
}
