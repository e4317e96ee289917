//! Users (people of the console) and API tokens (machines): lists with their forms, and
//! the changes, each one app operation by the person (named in the audit entry).

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use assent_app::access::Role;
use assent_app::accounts::users::{self, NewUser};
use assent_pages::console::pages::{self, TokenLine, UserLine};

use super::common::{Done, fail, form, ok, secret_page, shell};
use crate::auth::Admin;
use crate::console_reply::see_other;
use crate::error::ApiError;
use crate::state::AppState;

/// Roles of people, least first.
const PERSON_ROLES: [&str; 3] = ["auditor", "dpo", "admin"];

/// `GET /admin/users`.
pub async fn users_page(
    admin: Admin,
    State(st): State<AppState>,
    done: Result<Query<Done>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let list = match users::list(&st.store).await {
        Ok(l) => l,
        Err(e) => return fail(&admin, e),
    };
    let lines: Vec<UserLine> = list
        .into_iter()
        .map(|u| UserLine {
            me: admin.token_id == u.actor(),
            state: if u.disabled {
                "disabled"
            } else if u.has_password {
                "active"
            } else {
                "pending"
            },
            id: u.id,
            email: u.email,
            role: u.role.as_str().to_owned(),
            totp: u.totp,
            created_at_ms: u.created_at_ms,
        })
        .collect();
    let mut s = shell(&admin, "console.title.users", "/admin/users");
    if let Ok(Query(d)) = done {
        d.show(&mut s);
    }
    ok(pages::users(&s, &lines, &PERSON_ROLES))
}

#[derive(Debug, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// `POST /admin/users`: creates an account and shows its setup link once.
pub async fn user_create(
    admin: Admin,
    State(st): State<AppState>,
    f: Result<Form<NewUserForm>, FormRejection>,
) -> Response {
    let f: NewUserForm = form(f);
    let lang = admin.person.as_ref().map(|p| p.user.lang.clone());
    let n = NewUser {
        email: f.email,
        role: f.role,
        password: None,
        lang,
        tz: admin.person.as_ref().map(|p| p.user.tz.clone()),
    };
    let made = users::create(
        &st.store,
        st.clock.as_ref(),
        &admin.token_id,
        &n,
        &st.public_base,
    );
    match made.await {
        Ok((_, Some(link))) => {
            secret_page(&admin, "console.done.user_created", &link, "/admin/users")
        }
        Ok((_, None)) => see_other("/admin/users"),
        Err(e) => fail(&admin, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST /admin/users/{id}/role`.
pub async fn user_role(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    f: Result<Form<RoleForm>, FormRejection>,
) -> Response {
    let f: RoleForm = form(f);
    match users::set_role(&st.store, st.clock.as_ref(), &admin.token_id, &id, &f.role).await {
        Ok(_) => see_other("/admin/users?done=role"),
        Err(e) => fail(&admin, e),
    }
}

/// `POST /admin/users/{id}/disable`: also ends the person's sessions.
pub async fn user_disable(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    match users::disable(&st.store, st.clock.as_ref(), &admin.token_id, &id).await {
        Ok(_) => see_other("/admin/users?done=disabled"),
        Err(e) => fail(&admin, e),
    }
}

/// `POST /admin/users/{id}/enable`.
pub async fn user_enable(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    match users::enable(&st.store, st.clock.as_ref(), &admin.token_id, &id).await {
        Ok(_) => see_other("/admin/users?done=enabled"),
        Err(e) => fail(&admin, e),
    }
}

/// `POST /admin/users/{id}/reset`: clears the password and second factor; shows the new
/// setup link once.
pub async fn user_reset(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let reset = users::reset(
        &st.store,
        st.clock.as_ref(),
        &admin.token_id,
        &id,
        &st.public_base,
    );
    match reset.await {
        Ok(link) => secret_page(&admin, "console.done.reset", &link, "/admin/users"),
        Err(e) => fail(&admin, e),
    }
}

/// `GET /admin/tokens`: every token with its last use (never a secret).
pub async fn tokens_page(
    admin: Admin,
    State(st): State<AppState>,
    done: Result<Query<Done>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (list, uses) = match (
        st.store.list_tokens().await,
        st.store.token_last_used().await,
    ) {
        (Ok(l), Ok(u)) => (l, u),
        (Err(e), _) | (_, Err(e)) => return fail(&admin, ApiError::from(e)),
    };
    let lines: Vec<TokenLine> = list
        .into_iter()
        .map(|k| TokenLine {
            last_used_ms: uses
                .iter()
                .find(|(id, _)| *id == k.id)
                .and_then(|(_, t)| *t),
            id: k.id,
            label: k.label,
            role: k.role,
            created_at_ms: k.created_at_ms,
            revoked: k.revoked_at_ms.is_some(),
        })
        .collect();
    let mut s = shell(&admin, "console.title.tokens", "/admin/tokens");
    if let Ok(Query(d)) = done {
        d.show(&mut s);
    }
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    ok(pages::tokens(&s, &lines, &roles))
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    role: String,
}

/// `POST /admin/tokens`: creates a token and shows its secret once.
pub async fn token_create(
    admin: Admin,
    State(st): State<AppState>,
    f: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let f: TokenForm = form(f);
    let made = assent_app::tokens::create_by(
        &st.store,
        st.clock.as_ref(),
        &admin.token_id,
        f.role.trim(),
        f.label.trim(),
    );
    match made.await {
        Ok((token, _)) => secret_page(
            &admin,
            "console.done.token_created",
            &token,
            "/admin/tokens",
        ),
        Err(e) => fail(&admin, e),
    }
}

/// `POST /admin/tokens/{id}/revoke`.
pub async fn token_revoke(
    admin: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    match assent_app::tokens::revoke_by(&st.store, st.clock.as_ref(), &admin.token_id, &id).await {
        Ok(()) => see_other("/admin/tokens?done=token_revoked"),
        Err(e) => fail(&admin, e),
    }
}
