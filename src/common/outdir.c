/* prw_outdir_prepare_read: what readers of an output directory do first (proberows/outdir.h). */
#include <errno.h>
#include <sys/stat.h>

#include "common/publish.h"
#include "proberows/outdir.h"

prw_status prw_outdir_prepare_read(const char *dir, prw_outdir_state *st, prw_error *err) {
    memset(st, 0, sizeof *st);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return PRW_OK; /* the reader reports a missing directory itself */
    prw__dirlock l;
    prw_error lerr;
    if (prw__dirlock_acquire(&l, dir, false, &lerr) != PRW_OK) {
        if (lerr.sys_errno == EAGAIN)
            st->writer_pid = prw__dirlock_holder(dir);
        if (st->writer_pid == 0 && lerr.sys_errno == EAGAIN)
            st->writer_pid = -1;
        st->pending = st->writer_pid == 0 && prw__publish_pending(dir);
        return PRW_OK; /* busy, or not ours to write: look, do not touch */
    }
    int done = 0;
    prw_status s = prw__publish_recover(dir, &done, err);
    prw__dirlock_release(&l);
    st->finished = (done & PRW__RECOVERY_FORWARD) != 0;
    st->undone = (done & PRW__RECOVERY_BACK) != 0;
    return s;
}
