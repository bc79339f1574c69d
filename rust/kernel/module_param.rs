// SPDX-License-Identifier: GPL-2.0

//! Module parameters (`module_param`).
//!
//! [`module_param_uint!`](crate::module_param_uint) declares an unsigned
//! integer parameter set on the module's command line (`insmod m.ko
//! name=value`) and readable in `/sys/module/<module>/parameters/<name>`;
//! the module reads it with [`UintParam::get`].
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h)

use crate::{bindings, str::CStr};
use core::cell::UnsafeCell;

/// The storage of an unsigned integer module parameter.
///
/// # Invariants
///
/// The value is written only by the module loader while it parses the
/// module's arguments, before the module's code runs: the parameter is
/// read-only in sysfs.
#[repr(transparent)]
pub struct UintParam(UnsafeCell<core::ffi::c_uint>);

// SAFETY: after loading, the value is only read (type invariant).
unsafe impl Sync for UintParam {}

impl UintParam {
    /// A parameter with the default `value`.
    pub const fn new(value: u32) -> Self {
        Self(UnsafeCell::new(value))
    }

    /// The value.
    pub fn get(&self) -> u32 {
        // SAFETY: no writer once the module runs (type invariant).
        unsafe { *self.0.get() }
    }

    #[doc(hidden)]
    pub const fn as_ptr(&self) -> *mut core::ffi::c_void {
        self.0.get().cast()
    }
}

/// The `struct kernel_param` the module loader finds in the `__param`
/// section.
#[doc(hidden)]
#[repr(transparent)]
pub struct KernelParam(bindings::kernel_param);

// SAFETY: only the module loader reads it, and nothing writes it.
unsafe impl Sync for KernelParam {}

impl KernelParam {
    /// A read-only (0444) `uint` parameter `name` of `module`, stored in
    /// `value`.
    #[doc(hidden)]
    pub const fn uint(
        name: &'static CStr,
        module: *mut bindings::module,
        value: &'static UintParam,
    ) -> Self {
        Self(bindings::kernel_param {
            name: name.as_char_ptr(),
            mod_: module,
            ops: &raw const bindings::param_ops_uint,
            perm: 0o444,
            level: -1,
            flags: 0,
            __bindgen_anon_1: bindings::kernel_param__bindgen_ty_1 {
                arg: value.as_ptr(),
            },
        })
    }
}

/// The bytes of `s`, as an array of `N` (its length).
#[doc(hidden)]
pub const fn bytes<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N && i < b.len() {
        out[i] = b[i];
        i += 1;
    }
    out
}

/// Declares `static $name: UintParam`, the module's unsigned integer
/// parameter `$pname` (read-only in sysfs) with default `$default` and
/// description `$desc` (shown by `modinfo`).
///
/// ```ignore
/// kernel::module_param_uint!(MAX, "nf_conntrack_max", 65536, "most connections");
/// ```
#[macro_export]
macro_rules! module_param_uint {
    ($name:ident, $pname:literal, $default:expr, $desc:literal) => {
        static $name: $crate::module_param::UintParam =
            $crate::module_param::UintParam::new($default);
        const _: () = {
            extern "C" {
                static __this_module: $crate::types::Opaque<$crate::bindings::module>;
            }
            #[link_section = "__param"]
            #[used(compiler)]
            static PARAM: $crate::module_param::KernelParam =
                $crate::module_param::KernelParam::uint(
                    $crate::c_str!($pname),
                    // SAFETY: only the address of this module's `struct
                    // module`, which the kernel builds at load time.
                    unsafe { __this_module.get() },
                    &$name,
                );
            const DESC: &str = concat!("parm=", $pname, ":", $desc, "\0");
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARM: [u8; DESC.len()] = $crate::module_param::bytes(DESC);
            const TYPE: &str = concat!("parmtype=", $pname, ":uint\0");
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARMTYPE: [u8; TYPE.len()] = $crate::module_param::bytes(TYPE);
        };
    };
}
