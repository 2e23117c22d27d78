//! `F4`: four f32 lanes, on WebAssembly `simd128` (with relaxed-SIMD fused multiply-add when the build enables
//! it), on x86_64 SSE (FMA when the build enables it), and as a plain array elsewhere. The kernels are
//! written once against it.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub struct F4(v128);

    impl F4 {
        #[inline(always)]
        pub fn load(s: &[f32]) -> F4 {
            let s = &s[..4];
            // SAFETY: `s` holds four f32; v128_load allows unaligned addresses.
            F4(unsafe { v128_load(s.as_ptr() as *const v128) })
        }
        /// # Safety
        /// `i + 4 <= s.len()`: for hot loops that checked their whole range first.
        #[inline(always)]
        pub unsafe fn load_unchecked(s: &[f32], i: usize) -> F4 {
            // SAFETY: the caller's range check; v128_load allows unaligned addresses.
            F4(unsafe { v128_load(s.as_ptr().add(i) as *const v128) })
        }
        #[inline(always)]
        pub fn store(self, s: &mut [f32]) {
            let s = &mut s[..4];
            // SAFETY: as in `load`.
            unsafe { v128_store(s.as_mut_ptr() as *mut v128, self.0) }
        }
        /// # Safety
        /// `i + 4 <= s.len()`: for kernels that checked their whole range first.
        #[inline(always)]
        pub unsafe fn store_unchecked(self, s: &mut [f32], i: usize) {
            // SAFETY: the caller's range check; v128_store allows unaligned addresses.
            unsafe { v128_store(s.as_mut_ptr().add(i) as *mut v128, self.0) }
        }
        #[inline(always)]
        pub fn splat(v: f32) -> F4 {
            F4(f32x4_splat(v))
        }
        /// self + a * b
        #[inline(always)]
        pub fn mul_add(self, a: F4, b: F4) -> F4 {
            #[cfg(target_feature = "relaxed-simd")]
            return F4(f32x4_relaxed_madd(a.0, b.0, self.0));
            #[cfg(not(target_feature = "relaxed-simd"))]
            return F4(f32x4_add(self.0, f32x4_mul(a.0, b.0)));
        }
        #[inline(always)]
        pub fn max(self, o: F4) -> F4 {
            F4(f32x4_pmax(self.0, o.0))
        }
        #[inline(always)]
        pub fn min(self, o: F4) -> F4 {
            F4(f32x4_pmin(self.0, o.0))
        }
    }

    impl core::ops::Add for F4 {
        type Output = F4;
        #[inline(always)]
        fn add(self, o: F4) -> F4 {
            F4(f32x4_add(self.0, o.0))
        }
    }

    impl core::ops::Div for F4 {
        type Output = F4;
        #[inline(always)]
        fn div(self, o: F4) -> F4 {
            F4(f32x4_div(self.0, o.0))
        }
    }

    impl core::ops::Mul for F4 {
        type Output = F4;
        #[inline(always)]
        fn mul(self, o: F4) -> F4 {
            F4(f32x4_mul(self.0, o.0))
        }
    }

    pub const NAME: &str =
        if cfg!(target_feature = "relaxed-simd") { "wasm simd128 + relaxed-simd" } else { "wasm simd128" };
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use core::arch::x86_64::*;

    #[derive(Clone, Copy)]
    pub struct F4(__m128);

    impl F4 {
        #[inline(always)]
        pub fn load(s: &[f32]) -> F4 {
            let s = &s[..4];
            // SAFETY: `s` holds four f32; SSE is part of x86_64; loadu allows unaligned addresses.
            F4(unsafe { _mm_loadu_ps(s.as_ptr()) })
        }
        /// # Safety
        /// `i + 4 <= s.len()`: for hot loops that checked their whole range first.
        #[inline(always)]
        pub unsafe fn load_unchecked(s: &[f32], i: usize) -> F4 {
            // SAFETY: the caller's range check; loadu allows unaligned addresses.
            F4(unsafe { _mm_loadu_ps(s.as_ptr().add(i)) })
        }
        #[inline(always)]
        pub fn store(self, s: &mut [f32]) {
            let s = &mut s[..4];
            // SAFETY: as in `load`.
            unsafe { _mm_storeu_ps(s.as_mut_ptr(), self.0) }
        }
        /// # Safety
        /// `i + 4 <= s.len()`: for kernels that checked their whole range first.
        #[inline(always)]
        pub unsafe fn store_unchecked(self, s: &mut [f32], i: usize) {
            // SAFETY: the caller's range check; storeu allows unaligned addresses.
            unsafe { _mm_storeu_ps(s.as_mut_ptr().add(i), self.0) }
        }
        #[inline(always)]
        pub fn splat(v: f32) -> F4 {
            // SAFETY: SSE is part of x86_64.
            F4(unsafe { _mm_set1_ps(v) })
        }
        /// self + a * b
        #[inline(always)]
        pub fn mul_add(self, a: F4, b: F4) -> F4 {
            #[cfg(target_feature = "fma")]
            // SAFETY: the build enables FMA.
            return F4(unsafe { _mm_fmadd_ps(a.0, b.0, self.0) });
            #[cfg(not(target_feature = "fma"))]
            return self + a * b;
        }
        #[inline(always)]
        pub fn max(self, o: F4) -> F4 {
            // SAFETY: SSE is part of x86_64.
            F4(unsafe { _mm_max_ps(self.0, o.0) })
        }
        #[inline(always)]
        pub fn min(self, o: F4) -> F4 {
            // SAFETY: SSE is part of x86_64.
            F4(unsafe { _mm_min_ps(self.0, o.0) })
        }
    }

    impl core::ops::Add for F4 {
        type Output = F4;
        #[inline(always)]
        fn add(self, o: F4) -> F4 {
            // SAFETY: SSE is part of x86_64.
            F4(unsafe { _mm_add_ps(self.0, o.0) })
        }
    }

    impl core::ops::Div for F4 {
        type Output = F4;
        #[inline(always)]
        fn div(self, o: F4) -> F4 {
            // SAFETY: SSE is part of x86_64.
            F4(unsafe { _mm_div_ps(self.0, o.0) })
        }
    }

    impl core::ops::Mul for F4 {
        type Output = F4;
        #[inline(always)]
        fn mul(self, o: F4) -> F4 {
            // SAFETY: SSE is part of x86_64.
            F4(unsafe { _mm_mul_ps(self.0, o.0) })
        }
    }

    pub const NAME: &str = if cfg!(target_feature = "fma") { "x86_64 SSE + FMA" } else { "x86_64 SSE" };
}

#[cfg(not(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64")))]
mod imp {
    #[derive(Clone, Copy)]
    pub struct F4([f32; 4]);

    impl F4 {
        #[inline(always)]
        pub fn load(s: &[f32]) -> F4 {
            F4([s[0], s[1], s[2], s[3]])
        }
        /// # Safety
        /// `i + 4 <= s.len()` (checked here all the same).
        #[inline(always)]
        pub unsafe fn load_unchecked(s: &[f32], i: usize) -> F4 {
            F4::load(&s[i..])
        }
        #[inline(always)]
        pub fn store(self, s: &mut [f32]) {
            s[..4].copy_from_slice(&self.0);
        }
        /// # Safety
        /// `i + 4 <= s.len()` (checked here all the same).
        #[inline(always)]
        pub unsafe fn store_unchecked(self, s: &mut [f32], i: usize) {
            self.store(&mut s[i..]);
        }
        #[inline(always)]
        pub fn splat(v: f32) -> F4 {
            F4([v; 4])
        }
        #[inline(always)]
        pub fn mul_add(self, a: F4, b: F4) -> F4 {
            self + a * b
        }
        #[inline(always)]
        pub fn max(self, o: F4) -> F4 {
            F4(std::array::from_fn(|i| self.0[i].max(o.0[i])))
        }
        #[inline(always)]
        pub fn min(self, o: F4) -> F4 {
            F4(std::array::from_fn(|i| self.0[i].min(o.0[i])))
        }
    }

    impl core::ops::Add for F4 {
        type Output = F4;
        #[inline(always)]
        fn add(self, o: F4) -> F4 {
            F4(std::array::from_fn(|i| self.0[i] + o.0[i]))
        }
    }

    impl core::ops::Div for F4 {
        type Output = F4;
        #[inline(always)]
        fn div(self, o: F4) -> F4 {
            F4(std::array::from_fn(|i| self.0[i] / o.0[i]))
        }
    }

    impl core::ops::Mul for F4 {
        type Output = F4;
        #[inline(always)]
        fn mul(self, o: F4) -> F4 {
            F4(std::array::from_fn(|i| self.0[i] * o.0[i]))
        }
    }

    pub const NAME: &str = "portable (no SIMD)";
}

pub use imp::{F4, NAME};
