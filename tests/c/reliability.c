#include "reliability.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- process accounting */

static long status_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  CHECK(f != NULL);
  char line[256];
  long v = -1;
  size_t klen = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
      v = strtol(line + klen + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  CHECK(v >= 0);
  return v;
}

long rel_rss_kb(void) { return status_kb("VmRSS"); }
long rel_vm_kb(void) { return status_kb("VmSize"); }

long rel_raise_nofile(long want) {
  struct rlimit rl;
  CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
  if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < want) {
    rlim_t target = (rlim_t)want;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < target) target = rl.rlim_max;
    rl.rlim_cur = target;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
  }
  CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
  return rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
}

uint64_t rel_pool_outstanding(actnet_pool *pool) {
  actnet_pool_stats st;
  CHECK_OK(actnet_pool_stats_init(&st));
  CHECK_OK(actnet_pool_stats_get(pool, &st));
  return st.outstanding;
}

rel_baseline rel_baseline_take(actnet_node *node, actnet_alias server, actnet_pool *pool) {
  rel_baseline b;
  memset(&b, 0, sizeof b);
  b.fds = open_fd_count();
  if (pool) b.outstanding = rel_pool_outstanding(pool);
  if (server.id) b.connections = inspect_u64(node, server, "connections");
  return b;
}

int64_t rel_wait_baseline(actnet_node *node, actnet_alias server, actnet_pool *pool, const rel_baseline *base,
                          int timeout_ms, const char *what) {
  int64_t t0 = now_ms(), end = t0 + timeout_ms;
  for (;;) {
    int fds = open_fd_count();
    uint64_t out = pool ? rel_pool_outstanding(pool) : 0;
    uint64_t conns = server.id ? inspect_u64(node, server, "connections") : 0;
    if (fds == base->fds && out == base->outstanding && conns == base->connections) return now_ms() - t0;
    if (now_ms() >= end) {
      fprintf(stderr,
              "%s: not back to the baseline after %d ms: fds %d (baseline %d), pool outstanding %llu (%llu), "
              "server connections %llu (%llu)\n",
              what, timeout_ms, fds, base->fds, (unsigned long long)out, (unsigned long long)base->outstanding,
              (unsigned long long)conns, (unsigned long long)base->connections);
      exit(1);
    }
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
  }
}

/* ---------------------------------------------------------------- hashing */

uint64_t rel_hash_bytes(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}

uint64_t rel_hash_frame(uint64_t h, const uint8_t *p, size_t n) {
  uint64_t len = n;
  h = rel_hash_bytes(h, (const uint8_t *)&len, sizeof len);
  return rel_hash_bytes(h, p, n);
}

/* ---------------------------------------------------------------- the rec behaviour */

enum { REC_CAP = 1 << 14 };

struct rec {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int refs;
  bool echo;
  rec_conn *table; /* open addressing by alias, REC_CAP slots */
  int count;
  int connects, disconnects, datas, terminated, syncs;
};

uint32_t rel_flood_seed(actnet_alias alias) { return (uint32_t)(alias.id * 2654435761u) ^ 0x5EED; }

rec *rec_new(void) {
  rec *r = calloc(1, sizeof *r);
  CHECK(r != NULL);
  r->table = calloc(REC_CAP, sizeof *r->table);
  CHECK(r->table != NULL);
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->cond, NULL);
  r->refs = 1;
  r->echo = true;
  return r;
}

void rec_set_echo(rec *r, bool echo) { r->echo = echo; }

static void rec_unref(void *user_data) {
  rec *r = user_data;
  pthread_mutex_lock(&r->lock);
  int left = --r->refs;
  pthread_mutex_unlock(&r->lock);
  if (left > 0) return;
  pthread_mutex_destroy(&r->lock);
  pthread_cond_destroy(&r->cond);
  free(r->table);
  free(r);
}

void rec_release(rec *r) { rec_unref(r); }

/* The slot of alias (under the lock); inserts it if `insert`, else NULL when absent. */
static rec_conn *slot(rec *r, actnet_alias alias, bool insert) {
  uint64_t h = alias.id * UINT64_C(0x9E3779B97F4A7C15);
  for (size_t i = 0; i < REC_CAP; i++) {
    rec_conn *c = &r->table[(h + i) & (REC_CAP - 1)];
    if (c->alias.id == alias.id) return c;
    if (c->alias.id == 0) {
      if (!insert) return NULL;
      CHECK(r->count < REC_CAP * 3 / 4);
      c->alias = alias;
      r->count++;
      return c;
    }
  }
  return NULL;
}

/* Writes the flood pattern of c until it is done or the queue is full (not under the lock). */
static void flood_pump(rec *r, actnet_node *node, actnet_alias alias) {
  pthread_mutex_lock(&r->lock);
  rec_conn *c = slot(r, alias, false);
  CHECK(c != NULL);
  uint64_t total = c->flood_total, sent = c->flood_sent;
  pthread_mutex_unlock(&r->lock);
  uint8_t chunk[65536];
  uint32_t seed = rel_flood_seed(alias);
  size_t step = 32768;
  bool blocked = false;
  int errors = 0;
  int would_blocks = 0;
  while (sent < total) {
    size_t n = total - sent < step ? (size_t)(total - sent) : step;
    net_pattern(chunk, n, sent, seed);
    actnet_status s = actnet_tcp_write(node, alias, chunk, n);
    if (s == ACTNET_STATUS_OK) {
      sent += n;
    } else if (s == ACTNET_STATUS_WOULD_BLOCK) {
      would_blocks++;
      blocked = true;
      break;
    } else {
      errors++;
      break;
    }
  }
  pthread_mutex_lock(&r->lock);
  c = slot(r, alias, false);
  c->flood_sent = sent;
  c->flood_blocked = blocked;
  c->would_blocks += would_blocks;
  c->flood_errors += errors;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

static int32_t rec_handle(void *user_data, actnet_node *node, actnet_pid pid, void *state, const actnet_message *m) {
  (void)state;
  rec *r = user_data;
  if (m->kind == ACTNET_MSG_USER && m->tag == REL_CMD_FLOOD) {
    rel_flood_cmd cmd;
    CHECK(m->len == sizeof cmd);
    memcpy(&cmd, m->data, sizeof cmd);
    pthread_mutex_lock(&r->lock);
    rec_conn *c = slot(r, cmd.alias, false);
    CHECK(c != NULL);
    c->flood_total = cmd.total;
    c->flood_sent = 0;
    pthread_mutex_unlock(&r->lock);
    flood_pump(r, node, cmd.alias);
    return 0;
  }
  if (m->kind == ACTNET_MSG_USER && m->tag == REL_CMD_SYNC) {
    pthread_mutex_lock(&r->lock);
    r->syncs++;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    return 0;
  }
  if (m->kind != ACTNET_MSG_CONNECT && m->kind != ACTNET_MSG_DATA && m->kind != ACTNET_MSG_DISCONNECT &&
      m->kind != ACTNET_MSG_WRITABLE)
    return 0;

  actnet_status echo = ACTNET_STATUS_OK;
  if (m->kind == ACTNET_MSG_DATA && r->echo) {
    if (m->buf) {
      echo = actnet_tcp_write_buf(node, m->alias, m->buf);
      if (echo != ACTNET_STATUS_OK) CHECK_OK(actnet_buf_free(m->buf));
    } else {
      echo = actnet_tcp_write(node, m->alias, m->data, m->len);
    }
  } else if (m->kind == ACTNET_MSG_DATA && m->buf) {
    CHECK_OK(actnet_buf_free(m->buf));
  }
  /* From here m->data must not be read: with a pool buffer it went back with the echo (the
   * bytes were hashed before, by rec_handle_hashing). */
  bool pump = false;
  pthread_mutex_lock(&r->lock);
  rec_conn *c = slot(r, m->alias, true);
  switch (m->kind) {
    case ACTNET_MSG_CONNECT:
      if (c->connects > 0 || c->disconnects > 0) c->out_of_order++;
      c->connects++;
      c->pid = pid;
      c->connect_ms = now_ms();
      if (m->remote_addr) snprintf(c->remote, sizeof c->remote, "%s", m->remote_addr);
      r->connects++;
      break;
    case ACTNET_MSG_DATA: /* counted by rec_handle_hashing, before the echo */
      if (echo != ACTNET_STATUS_OK) {
        c->echo_failures++;
        c->echo_status = echo;
      }
      break;
    case ACTNET_MSG_DISCONNECT:
      if (c->connects == 0 || c->disconnects > 0) c->out_of_order++;
      if (c->disconnects == 0) c->reason = m->reason;
      c->disconnects++;
      c->disconnect_ms = now_ms();
      r->disconnects++;
      break;
    case ACTNET_MSG_WRITABLE:
      if (c->connects == 0 || c->disconnects > 0) c->out_of_order++;
      c->writables++;
      if (!c->flood_blocked) c->writable_unexpected++;
      c->flood_blocked = false;
      pump = c->flood_sent < c->flood_total;
      break;
  }
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
  if (pump) flood_pump(r, node, m->alias);
  return 0;
}

/* DATA is counted and hashed before the echo: its bytes may go back with the pool buffer,
 * and a peer that has read the echo must find the DATA counted. */
static int32_t rec_handle_hashing(void *user_data, actnet_node *node, actnet_pid pid, void *state,
                                  const actnet_message *m) {
  if (m->kind == ACTNET_MSG_DATA) {
    rec *r = user_data;
    pthread_mutex_lock(&r->lock);
    rec_conn *c = slot(r, m->alias, true);
    if (c->connects == 0 || c->disconnects > 0) c->out_of_order++;
    c->datas++;
    r->datas++;
    c->bytes += m->len;
    c->frame_hash = rel_hash_frame(c->frame_hash ? c->frame_hash : REL_HASH_INIT, m->data, m->len);
    c->byte_hash = rel_hash_bytes(c->byte_hash ? c->byte_hash : REL_HASH_INIT, m->data, m->len);
    pthread_mutex_unlock(&r->lock);
  }
  return rec_handle(user_data, node, pid, state, m);
}

static void rec_terminate(void *user_data, actnet_node *node, actnet_pid pid, void *state, uint32_t reason,
                          int32_t code) {
  (void)node;
  (void)pid;
  (void)state;
  (void)reason;
  (void)code;
  rec *r = user_data;
  pthread_mutex_lock(&r->lock);
  r->terminated++;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

actnet_pid rec_spawn(actnet_node *node, rec *r, const char *name, uint32_t mailbox_size) {
  actnet_behavior_callbacks cb;
  CHECK_OK(actnet_behavior_callbacks_init(&cb));
  cb.handle_message = rec_handle_hashing;
  cb.terminate = rec_terminate;
  pthread_mutex_lock(&r->lock);
  r->refs++;
  pthread_mutex_unlock(&r->lock);
  actnet_behavior *b = NULL;
  CHECK_OK(actnet_behavior_new(&cb, r, rec_unref, &b));
  return spawn_behavior(node, b, name, mailbox_size);
}

rec_totals rec_get_totals(rec *r) {
  rec_totals t;
  memset(&t, 0, sizeof t);
  pthread_mutex_lock(&r->lock);
  for (size_t i = 0; i < REC_CAP; i++) {
    const rec_conn *c = &r->table[i];
    if (c->alias.id == 0) continue;
    t.conns++;
    if (c->disconnects > 0 && c->reason < 32) t.by_reason[c->reason]++;
    t.out_of_order += c->out_of_order;
    if (c->connects > 1) t.multi_connect++;
    if (c->disconnects > 1) t.multi_disconnect++;
  }
  t.connects = r->connects;
  t.disconnects = r->disconnects;
  t.datas = r->datas;
  t.terminated = r->terminated;
  pthread_mutex_unlock(&r->lock);
  return t;
}

/* Waits under the lock until cond(r, ctx) holds. */
static bool rec_wait_locked(rec *r, bool (*cond)(rec *, void *), void *ctx, int timeout_ms) {
  struct timespec ts;
  deadline_in(&ts, timeout_ms);
  pthread_mutex_lock(&r->lock);
  bool ok;
  while (!(ok = cond(r, ctx))) {
    if (pthread_cond_timedwait(&r->cond, &r->lock, &ts) != 0) {
      ok = cond(r, ctx);
      break;
    }
  }
  pthread_mutex_unlock(&r->lock);
  return ok;
}

static bool enough_disconnects(rec *r, void *ctx) { return r->disconnects >= *(int *)ctx; }
static bool enough_connects(rec *r, void *ctx) { return r->connects >= *(int *)ctx; }
static bool settled(rec *r, void *ctx) { return r->connects >= *(int *)ctx && r->disconnects >= r->connects; }

bool rec_wait_disconnects(rec *r, int n, int timeout_ms) { return rec_wait_locked(r, enough_disconnects, &n, timeout_ms); }
bool rec_wait_connects(rec *r, int n, int timeout_ms) { return rec_wait_locked(r, enough_connects, &n, timeout_ms); }
bool rec_wait_settled(rec *r, int min_connects, int timeout_ms) {
  return rec_wait_locked(r, settled, &min_connects, timeout_ms);
}

static bool synced(rec *r, void *ctx) { return r->syncs >= *(int *)ctx; }

void rec_sync(actnet_node *node, rec *r, actnet_pid pid, int timeout_ms) {
  pthread_mutex_lock(&r->lock);
  int want = r->syncs + 1;
  pthread_mutex_unlock(&r->lock);
  CHECK_OK(actnet_message_send(node, pid, REL_CMD_SYNC, NULL, 0));
  if (!rec_wait_locked(r, synced, &want, timeout_ms)) {
    fprintf(stderr, "process %llu did not handle a sync message within %d ms\n", (unsigned long long)pid.id, timeout_ms);
    exit(1);
  }
}

typedef struct claim_ctx {
  const char *remote;
  actnet_alias found;
} claim_ctx;

static bool claim_found(rec *r, void *ctx) {
  claim_ctx *c = ctx;
  uint64_t best = 0;
  rec_conn *pick = NULL;
  for (size_t i = 0; i < REC_CAP; i++) {
    rec_conn *e = &r->table[i];
    if (e->alias.id == 0 || e->claimed || e->connects == 0) continue;
    if (strcmp(e->remote, c->remote) != 0) continue;
    if (!pick || e->alias.id < best) {
      pick = e;
      best = e->alias.id;
    }
  }
  if (!pick) return false;
  pick->claimed = true;
  c->found = pick->alias;
  return true;
}

actnet_alias rec_claim_remote(rec *r, const char *remote, int timeout_ms) {
  claim_ctx c = {remote, {0}};
  if (!rec_wait_locked(r, claim_found, &c, timeout_ms)) {
    fprintf(stderr, "no CONNECT from %s within %d ms\n", remote, timeout_ms);
    exit(1);
  }
  return c.found;
}

rec_conn rec_get(rec *r, actnet_alias alias) {
  pthread_mutex_lock(&r->lock);
  rec_conn *c = slot(r, alias, false);
  if (!c) {
    fprintf(stderr, "rec: no connection %llu\n", (unsigned long long)alias.id);
    exit(1);
  }
  rec_conn copy = *c;
  pthread_mutex_unlock(&r->lock);
  return copy;
}

typedef struct pred_ctx {
  actnet_alias alias;
  bool (*pred)(const rec_conn *, void *);
  void *ctx;
} pred_ctx;

static bool pred_holds(rec *r, void *ctx) {
  pred_ctx *p = ctx;
  rec_conn *c = slot(r, p->alias, false);
  return c && p->pred(c, p->ctx);
}

bool rec_wait_pred(rec *r, actnet_alias alias, bool (*pred)(const rec_conn *, void *), void *ctx, int timeout_ms) {
  pred_ctx p = {alias, pred, ctx};
  return rec_wait_locked(r, pred_holds, &p, timeout_ms);
}

static bool is_disconnected(const rec_conn *c, void *ctx) {
  (void)ctx;
  return c->disconnects > 0;
}

void rel_dump_of(actnet_node *node, any_id id) {
  actnet_info *info = NULL;
  actnet_status s = inspect_any(node, id, &info);
  if (s != ACTNET_STATUS_OK) {
    fprintf(stderr, "  inspect %llu: %s\n", (unsigned long long)id.id, actnet_status_str(s));
    return;
  }
  fprintf(stderr, "  inspect %llu:", (unsigned long long)id.id);
  for (size_t i = 0; i < actnet_info_count(info); i++)
    fprintf(stderr, "%s %s=%s", i ? "," : "", actnet_info_key(info, i), actnet_info_value(info, i));
  fprintf(stderr, "\n");
  CHECK_OK(actnet_info_free(info));
}

static actnet_node *dump_node;
void rec_set_dump_node(actnet_node *node) { dump_node = node; }

rec_conn rec_wait_disconnect(rec *r, actnet_alias alias, int timeout_ms) {
  if (!rec_wait_pred(r, alias, is_disconnected, NULL, timeout_ms)) {
    rec_conn c = rec_get(r, alias);
    fprintf(stderr, "no DISCONNECT of %llu (%s) within %d ms: %d DATA, %d WRITABLE, %d WOULD_BLOCK, flood %llu/%llu\n",
            (unsigned long long)alias.id, c.remote, timeout_ms, c.datas, c.writables, c.would_blocks,
            (unsigned long long)c.flood_sent, (unsigned long long)c.flood_total);
    if (dump_node) rel_dump(dump_node, alias);
    exit(1);
  }
  return rec_get(r, alias);
}

void rec_check_one_disconnect(rec *r, actnet_alias alias, uint32_t reason, bool allow_echo_failures, const char *what) {
  rec_conn c = rec_get(r, alias);
  bool ok = c.connects == 1 && c.disconnects == 1 && c.reason == reason && c.out_of_order == 0 &&
            (allow_echo_failures || c.echo_failures == 0);
  if (!ok) {
    fprintf(stderr,
            "%s: connection %llu (%s): %d CONNECT, %d DISCONNECT, reason %u (%s), wanted one DISCONNECT with %u "
            "(%s); %d out of order, %d failed echoes (last status %u %s)\n",
            what, (unsigned long long)alias.id, c.remote, c.connects, c.disconnects, c.reason,
            actnet_disconnect_reason_str(c.reason), reason, actnet_disconnect_reason_str(reason), c.out_of_order,
            c.echo_failures, c.echo_status, actnet_status_str(c.echo_status));
    exit(1);
  }
}

int rec_disconnects_of(rec *r, actnet_pid pid) {
  int n = 0;
  pthread_mutex_lock(&r->lock);
  for (size_t i = 0; i < REC_CAP; i++) {
    if (r->table[i].alias.id != 0 && r->table[i].pid.id == pid.id) n += r->table[i].disconnects;
  }
  pthread_mutex_unlock(&r->lock);
  return n;
}

/* ---------------------------------------------------------------- framing */

void rel_chunk_options(const rel_framing *f, actnet_chunk_options *o) {
  CHECK_OK(actnet_chunk_options_init(o));
  if (f->kind == REL_RAW) return;
  o->enable = true;
  if (f->kind == REL_FIXED) {
    o->fixed_length = f->fixed;
    return;
  }
  o->header_size = f->header_size;
  o->header_length_position = f->position;
  o->header_length_size = f->length_size;
  o->header_length_includes_header = f->includes_header;
  o->max_length = f->max_length;
}

size_t rel_max_payload(const rel_framing *f, size_t cap) {
  size_t m = cap;
  if (f->kind == REL_FIXED) return (size_t)f->fixed;
  if (f->kind == REL_HEADER) {
    uint64_t field_max = f->length_size == 4 ? UINT64_C(0xFFFFFFFF) : (UINT64_C(1) << (8 * f->length_size)) - 1;
    uint64_t p = f->includes_header ? field_max - (uint64_t)f->header_size : field_max;
    if (f->max_length > 0 && (uint64_t)(f->max_length - f->header_size) < p) p = (uint64_t)(f->max_length - f->header_size);
    if (p < m) m = (size_t)p;
  }
  return m;
}

size_t rel_frame_build(const rel_framing *f, uint8_t *out, size_t payload, uint64_t *rng) {
  switch (f->kind) {
    case REL_RAW:
      rel_rand_fill(rng, out, payload);
      return payload;
    case REL_FIXED:
      rel_rand_fill(rng, out, (size_t)f->fixed);
      return (size_t)f->fixed;
    default: {
      size_t hs = (size_t)f->header_size;
      rel_rand_fill(rng, out, hs + payload);
      uint64_t v = f->includes_header ? hs + payload : payload;
      for (int i = 0; i < f->length_size; i++) {
        out[f->position + i] = (uint8_t)(v >> (8 * (f->length_size - 1 - i)));
      }
      return hs + payload;
    }
  }
}

void rel_model_run(const rel_framing *f, const uint8_t *s, size_t n, rel_model *m) {
  memset(m, 0, sizeof *m);
  size_t cap = 64;
  m->ends = malloc(cap * sizeof *m->ends);
  CHECK(m->ends != NULL);
  size_t off = 0;
  if (f->kind == REL_RAW) {
    m->consumed = n;
    return;
  }
  while (off < n) {
    size_t avail = n - off;
    uint64_t total;
    if (f->kind == REL_FIXED) {
      total = (uint64_t)f->fixed;
    } else {
      size_t hs = (size_t)f->header_size;
      if (avail < hs) {
        m->header_incomplete = true;
        m->need = hs - avail;
        break;
      }
      uint64_t declared = 0;
      for (int i = 0; i < f->length_size; i++) declared = (declared << 8) | s[off + (size_t)f->position + (size_t)i];
      if (f->includes_header) {
        if (declared < hs) {
          m->error = ACTNET_DISCONNECT_REASON_INVALID_FRAME_LENGTH;
          break;
        }
        total = declared;
      } else {
        total = declared + hs;
      }
      if (f->max_length > 0 && total > (uint64_t)f->max_length) {
        m->error = ACTNET_DISCONNECT_REASON_MAX_LENGTH_EXCEEDED;
        break;
      }
    }
    if (total > avail) {
      m->need = (size_t)(total - avail);
      break;
    }
    if (m->nframes == cap) {
      cap *= 2;
      m->ends = realloc(m->ends, cap * sizeof *m->ends);
      CHECK(m->ends != NULL);
    }
    off += (size_t)total;
    m->ends[m->nframes++] = off;
  }
  m->consumed = off;
}

void rel_model_free(rel_model *m) {
  free(m->ends);
  m->ends = NULL;
}

uint64_t rel_model_hash(const rel_model *m, const uint8_t *s, size_t k) {
  if (k == 0) return 0; /* the rec's hash of nothing */
  uint64_t h = REL_HASH_INIT;
  size_t start = 0;
  for (size_t i = 0; i < k; i++) {
    h = rel_hash_frame(h, s + start, m->ends[i] - start);
    start = m->ends[i];
  }
  return h;
}

uint64_t rel_rand(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * UINT64_C(0x2545F4914F6CDD1D);
}

size_t rel_rand_range(uint64_t *state, size_t lo, size_t hi) {
  if (hi <= lo) return lo;
  return lo + (size_t)(rel_rand(state) % (uint64_t)(hi - lo + 1));
}

void rel_rand_fill(uint64_t *state, uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint64_t v = rel_rand(state);
    for (int b = 0; b < 8 && i < n; b++, i++) p[i] = (uint8_t)(v >> (8 * b));
  }
}

/* ---------------------------------------------------------------- well-behaved client */

struct rel_good {
  pthread_t thread;
  int fd;
  char local[64];
  rel_framing f;
  size_t max_payload;
  uint64_t rng;
  int pause_us;
  atomic_bool stop;
  atomic_int roundtrips;
  int64_t max_rtt_ms;
};

static void *good_main(void *arg) {
  rel_good *g = arg;
  size_t cap = g->max_payload + 64;
  uint8_t *out = malloc(cap), *in = malloc(cap);
  CHECK(out != NULL && in != NULL);
  size_t lo = g->f.kind == REL_RAW ? 1 : 0;
  while (!atomic_load(&g->stop)) {
    size_t payload = rel_rand_range(&g->rng, lo, g->max_payload);
    size_t n = rel_frame_build(&g->f, out, payload, &g->rng);
    int64_t t0 = now_ms();
    net_write_all(g->fd, out, n);
    if (!net_read_exact(g->fd, in, n, WAIT_MS)) {
      fprintf(stderr, "well-behaved client %s (%s framing): no echo of a %zu-byte frame after %d round trips\n",
              g->local, g->f.name, n, atomic_load(&g->roundtrips));
      exit(1);
    }
    if (memcmp(in, out, n) != 0) {
      fprintf(stderr, "well-behaved client %s (%s framing): wrong echo of a %zu-byte frame\n", g->local, g->f.name, n);
      exit(1);
    }
    int64_t rtt = now_ms() - t0;
    if (rtt > g->max_rtt_ms) g->max_rtt_ms = rtt;
    atomic_fetch_add(&g->roundtrips, 1);
    if (g->pause_us > 0) {
      struct timespec ts = {0, (long)g->pause_us * 1000L};
      nanosleep(&ts, NULL);
    }
  }
  /* Close our side: the server drains, flushes and closes: EOF with nothing more. */
  net_shutdown_write(g->fd);
  size_t got = 0;
  net_end e = net_read_to_end(g->fd, in, cap, WAIT_MS, &got);
  if (e != NET_EOF || got != 0) {
    fprintf(stderr, "well-behaved client %s: after closing, %s with %zu more bytes (wanted EOF and none)\n", g->local,
            net_end_str(e), got);
    exit(1);
  }
  CHECK(close(g->fd) == 0);
  free(out);
  free(in);
  return NULL;
}

rel_good *rel_good_start(uint16_t port, const rel_framing *f, size_t max_payload, uint32_t seed, int pause_us) {
  rel_good *g = calloc(1, sizeof *g);
  CHECK(g != NULL);
  g->f = *f;
  g->max_payload = rel_max_payload(f, max_payload);
  g->rng = UINT64_C(0x9E3779B97F4A7C15) ^ seed;
  g->pause_us = pause_us;
  atomic_init(&g->stop, false);
  atomic_init(&g->roundtrips, 0);
  g->fd = net_connect(port);
  net_sockname(g->fd, g->local, sizeof g->local);
  CHECK(pthread_create(&g->thread, NULL, good_main, g) == 0);
  return g;
}

const char *rel_good_local(const rel_good *g) { return g->local; }

int rel_good_roundtrips(const rel_good *g) { return atomic_load(&((rel_good *)g)->roundtrips); }

void rel_good_wait(rel_good *g, int n, int timeout_ms) {
  int64_t end = now_ms() + timeout_ms;
  while (atomic_load(&g->roundtrips) < n) {
    if (now_ms() > end) {
      fprintf(stderr, "well-behaved client: %d round trips after %d ms, wanted %d\n", atomic_load(&g->roundtrips),
              timeout_ms, n);
      exit(1);
    }
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
  }
}

int rel_good_stop(rel_good *g, int min_roundtrips, int64_t *max_rtt_ms) {
  atomic_store(&g->stop, true);
  CHECK(pthread_join(g->thread, NULL) == 0);
  int n = atomic_load(&g->roundtrips);
  if (n < min_roundtrips) {
    fprintf(stderr, "well-behaved client: %d round trips, wanted at least %d\n", n, min_roundtrips);
    exit(1);
  }
  if (max_rtt_ms) *max_rtt_ms = g->max_rtt_ms;
  free(g);
  return n;
}

/* ---------------------------------------------------------------- a case */

rel_case rel_case_start(actnet_node *node, actnet_pool *pool, const char *name, const rel_framing *f,
                        const actnet_tcp_server_options *o, bool good) {
  rel_case k;
  memset(&k, 0, sizeof k);
  k.node = node;
  k.pool = pool;
  k.name = name;
  k.f = *f;
  k.r = rec_new();
  rec_set_dump_node(node);
  k.owner = rec_spawn(node, k.r, NULL, 0);
  actnet_tcp_server_options so;
  if (o) so = *o;
  else server_options(&so);
  /* The caller's connection options (if any), with this case's framing and pool. */
  actnet_tcp_connection_options conn;
  if (so.connection) conn = *so.connection;
  else CHECK_OK(actnet_tcp_connection_options_init(&conn));
  actnet_chunk_options chunk;
  rel_chunk_options(f, &chunk);
  conn.read_chunk = &chunk;
  conn.read_buffer_pool = pool;
  so.connection = &conn;
  k.server = server_spawn(node, k.owner, &so, &k.port);
  k.base = rel_baseline_take(node, k.server, pool);
  if (good) {
    k.good = rel_good_start(k.port, f, 512, 7, 1000);
    k.good_alias = rec_claim_remote(k.r, rel_good_local(k.good), WAIT_MS);
    rel_good_wait(k.good, 3, WAIT_MS);
  }
  return k;
}

void rel_case_finish(rel_case *k, int min_roundtrips) {
  int64_t max_rtt = 0;
  int rt = 0;
  if (k->good) {
    rt = rel_good_stop(k->good, min_roundtrips, &max_rtt);
    k->good = NULL;
    rec_wait_disconnect(k->r, k->good_alias, WAIT_MS);
    rec_check_one_disconnect(k->r, k->good_alias, ACTNET_DISCONNECT_REASON_PEER_CLOSED, false, k->name);
    rec_conn g = rec_get(k->r, k->good_alias);
    if (k->f.kind != REL_RAW) CHECK(g.datas == rt);
  }
  int64_t back = rel_wait_baseline(k->node, k->server, k->pool, &k->base, WAIT_MS, k->name);
  /* Every connection has ended, so every message it sent is in the owner's mailbox: once the
   * owner handled one sent now, a late second DISCONNECT would show. */
  rec_sync(k->node, k->r, k->owner, WAIT_MS);
  rec_totals t = rec_get_totals(k->r);
  if (t.connects != t.disconnects || t.connects != t.conns || t.multi_connect || t.multi_disconnect ||
      t.out_of_order) {
    fprintf(stderr,
            "%s: %d connections, %d CONNECT, %d DISCONNECT, %d with several CONNECT, %d with several "
            "DISCONNECT, %d out of order\n",
            k->name, t.conns, t.connects, t.disconnects, t.multi_connect, t.multi_disconnect, t.out_of_order);
    exit(1);
  }
  if (k->good_alias.id)
    REL_REPORT("[%s] %d connections, well-behaved client: %d round trips (slowest %lld ms); baseline back in %lld "
               "ms (fds %d, pool outstanding %llu, connections %llu)",
               k->name, t.conns, rt, (long long)max_rtt, (long long)back, k->base.fds,
               (unsigned long long)k->base.outstanding, (unsigned long long)k->base.connections);
  else
    REL_REPORT("[%s] %d connections; baseline back in %lld ms (fds %d, pool outstanding %llu, connections %llu)",
               k->name, t.conns, (long long)back, k->base.fds, (unsigned long long)k->base.outstanding,
               (unsigned long long)k->base.connections);
  CHECK_OK(actnet_process_stop(k->node, k->owner));
  /* The server ends with its owner; wait until it is gone (its listener closed). */
  int64_t end = now_ms() + WAIT_MS;
  actnet_info *info = NULL;
  while (actnet_meta_inspect(k->node, k->server, &info) == ACTNET_STATUS_OK) {
    CHECK_OK(actnet_info_free(info));
    info = NULL;
    CHECK(now_ms() < end);
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
  }
  rec_release(k->r);
  k->r = NULL;
}

void rel_wait_bytes_in(actnet_node *node, actnet_alias alias, uint64_t want) {
  int64_t end = now_ms() + WAIT_MS;
  char v[64] = "";
  for (;;) {
    if (inspect_value(node, alias, "bytes in", v, sizeof v) && strtoull(v, NULL, 10) >= want) return;
    if (now_ms() > end) {
      fprintf(stderr, "connection %llu: bytes in \"%s\", waited for %llu\n", (unsigned long long)alias.id, v,
              (unsigned long long)want);
      exit(1);
    }
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
  }
}
