//! Closed sets of values with a code: the request types, legal bases, statuses and other
//! enums whose code is written in the registry, the API or the store, and some of which have a
//! label in English, French and German. Each is declared by one table, one row per value.
//!
//! Invariants: `ALL` lists every value in declaration order, `parse(v.as_str()) == Some(v)`
//! for each, and `as_str` matches serde's name for it (the model's tests check it).

/// Defines an enum whose values each have a code, from one table: the enum, `ALL`, `as_str`
/// and `parse`. One row per value keeps the code and the list of values from drifting apart.
/// Attributes (derives, serde's `rename_all`, docs) are passed through.
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $code:literal, )+
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$variant),+];

            /// The code written in the registry, the API and the store.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )+
                }
            }

            /// The value whose code is `s`, if any.
            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.into_iter().find(|v| v.as_str() == s)
            }
        }
    };
}
pub(crate) use coded_enum;

/// [`coded_enum!`] whose values also have a label in English, French and German (`label`),
/// written on the value's row.
macro_rules! worded_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $code:literal, [$en:literal, $fr:literal, $de:literal], )+
        }
    ) => {
        $crate::codes::coded_enum! {
            $(#[$meta])*
            pub enum $name {
                $( $(#[$vmeta])* $variant => $code, )+
            }
        }

        impl $name {
            /// The value in words, for the banner, the policies and the forms.
            pub fn label(self, lang: &str) -> &'static str {
                $crate::lang::pick(lang, match self {
                    $( $name::$variant => [$en, $fr, $de], )+
                })
            }
        }
    };
}
pub(crate) use worded_enum;
