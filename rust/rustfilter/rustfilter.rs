// SPDX-License-Identifier: GPL-2.0
//! rustfilter placeholder.
use kernel::prelude::*;
module! { type: RustFilter, name: "rustfilter", author: "rustfilter", description: "rustfilter", license: "GPL" }
struct RustFilter;
impl kernel::Module for RustFilter { fn init(_m: &'static ThisModule) -> Result<Self> { Ok(RustFilter) } }
