//! Enums whose values cross the C ABI as `uint32_t`. Each is defined once, where it belongs
//! (the core or the TCP layer), with `#[repr(u32)]` and explicit values; cbindgen exports
//! that very enum under its C name, and [`CEnum::from_code`] converts a foreign value back.
//! Nothing else lists the values again except `ALL`, which `tests` below keep honest.

/// An enum with C values. `ALL` lists every variant in code order.
pub trait CEnum: Copy + Sized + 'static {
    const ALL: &'static [Self];

    fn code(self) -> u32;

    /// The variant with this value, if any.
    fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.code() == code)
    }
}

/// Implements [`CEnum`] for a `#[repr(u32)]` enum from its variants in code order.
macro_rules! c_enum {
    ($type:ty { $($variant:ident),+ $(,)? }) => {
        impl $crate::c_enum::CEnum for $type {
            const ALL: &'static [Self] = &[$(<$type>::$variant),+];

            fn code(self) -> u32 {
                self as u32
            }
        }

        // Every variant is listed: this match fails to compile when one is missing.
        const _: fn($type) = |v| match v {
            $(<$type>::$variant => ()),+
        };
    };
}
pub(crate) use c_enum;

#[cfg(test)]
mod tests {
    use super::CEnum;

    /// Codes are dense and in order: a value skipped or repeated in `ALL` shows here.
    fn dense<T: CEnum>() {
        let first = T::ALL[0].code();
        for (i, v) in T::ALL.iter().enumerate() {
            assert_eq!(v.code(), first + i as u32);
            assert_eq!(T::from_code(v.code()).map(CEnum::code), Some(v.code()));
        }
        assert!(T::from_code(first + T::ALL.len() as u32).is_none());
    }

    #[test]
    fn every_c_enum_is_dense() {
        dense::<crate::process::disconnect_reason::DisconnectReason>();
        dense::<crate::node::logging::LogLevel>();
        dense::<crate::process::supervisor::Restart>();
        dense::<crate::process::supervisor::Strategy>();
        dense::<crate::meta::tcp::options::MailboxPolicy>();
        dense::<crate::meta::tcp::tls::ClientAuth>();
        dense::<crate::ffi::message::actnet_message_kind>();
        dense::<crate::ffi::message::actnet_exit_reason>();
    }
}
