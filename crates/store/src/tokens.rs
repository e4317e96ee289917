//! Admin API tokens (only the sha256 of each secret is stored), one SQL text each for both
//! backends.

use crate::error::StoreError;
use crate::rows::{TOKEN_COLS, token_at};
use crate::sql::{V, i, insert, t};
use crate::store::Store;
use crate::types::TokenRow;

impl Store {
    /// Stores a token (its sha256 only). A duplicate id or hash is [`StoreError::Conflict`].
    pub async fn insert_token(&self, tok: TokenRow) -> Result<(), StoreError> {
        let vals = vec![
            t(&tok.id),
            V::B(tok.hash.to_vec()),
            t(&tok.role),
            t(&tok.label),
            i(tok.created_at_ms),
            V::I(tok.revoked_at_ms),
        ];
        let stmt = insert("api_tokens", TOKEN_COLS, vals);
        self.exec(vec![stmt], false, None).await?;
        Ok(())
    }

    /// Looks a token up by the sha256 of the presented secret (revoked tokens included:
    /// the caller checks `revoked_at_ms`).
    pub async fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRow>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE hash = ?1");
        self.row(sql, vec![V::B(hash.to_vec())], token_at).await
    }

    /// All tokens, oldest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens ORDER BY created_at_ms, id");
        self.rows(sql, vec![], token_at).await
    }

    /// Revokes a token; `false` if it does not exist or was already revoked.
    pub async fn revoke_token(&self, id: &str, ts_ms: i64) -> Result<bool, StoreError> {
        let sql =
            "UPDATE api_tokens SET revoked_at_ms = ?2 WHERE id = ?1 AND revoked_at_ms IS NULL";
        let changed = self
            .exec(vec![(sql.to_owned(), vec![t(id), i(ts_ms)])], false, None)
            .await?;
        Ok(changed.is_some_and(|n| n.first() == Some(&1)))
    }
}
