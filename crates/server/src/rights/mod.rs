//! HTML of the rights flow (form, code form, messages, the DPO's pages). The workflow itself
//! is `assent_app::rights`.

pub mod html;
