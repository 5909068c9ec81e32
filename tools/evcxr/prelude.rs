// Run by the evcxr kernel when it starts, before the first cell (EVCXR_CONFIG_DIR points here).
// evcxr forwards a cell's stdout before it reports the cell finished, but not its stderr, where
// errors returned with `?` and panic messages go: those could land under the next cell, or
// under none. Pointing stderr at stdout keeps every one under the cell that caused it.
// (Unix only; elsewhere nothing changes.)
fn distlab_kernel_stderr_to_stdout() {
    #[cfg(unix)]
    fn redirect() {
        unsafe extern "C" {
            fn dup2(old: i32, new: i32) -> i32;
        }
        unsafe { dup2(1, 2) };
    }
    #[cfg(not(unix))]
    fn redirect() {}
    redirect();
}
distlab_kernel_stderr_to_stdout();
