/*
 * geodata/geocode/geocode_search.c — an address typed by a person, matched against
 * the geocoder's index (geocoder_internal.h, built by geocoder.c).
 *
 * 1. Words. The query is normalised (normalize.c). A word the vocabulary
 *    does not hold is cut in two when both halves are words of it
 *    ("lafayette", "ruedes"); a "suffix" no address uses is a word again
 *    ("104 ue Blanche": "ue" is a misspelt "rue", not the suffix UE). Each word
 *    is then matched exactly, with typos through the deletion index, and,
 *    when short and unknown, against the street-type words with one edit
 *    (ue, ru, re -> rue); a number also matches the ordinal of a street name
 *    ("henry 4" -> Henri IV). When autocompleting, the last word may be the
 *    start of a word.
 * 2. Candidates, as a person reads an address from its town: for a query
 *    naming a postcode the base holds, the streets of that postcode that
 *    hold one of its words; when none of those is a sure answer, the same
 *    for the towns the query names (at least half of a town's name, reached
 *    through a word few towns' names hold); then the streets of the rarest
 *    street word and of up to two other rare words (a word in too many
 *    streets to list comes last, even after a town's word: "Jaurès" is in
 *    thousands of streets of a country's base).
 * 3. Word roles, per candidate street. A word counts for the street or for
 *    the town, never both. The town part of the query starts at a postcode or
 *    at a word of a town that the street's name does not hold, once the street
 *    has begun; words after the street's last word are in the town part too.
 *    Street words must come in the street name's order (the longest such
 *    sequence is kept). So "12 rue de Paris 93100 Montreuil" never reads as
 *    "12 Rue de Montreuil, Paris": "Montreuil" sits in the town part.
 * 4. Evidence. Town-part words that are not the street's town are another
 *    town (OTHER_TOWN) or, when they name another town of the base, a
 *    contradiction; a postcode the base does not hold, and that is not one
 *    edit from the street's, is OTHER_POSTCODE; one held only by other towns
 *    is a contradiction. Words left over elsewhere are UNEXPLAINED; a word
 *    the base knows, read as a typo of another, is RESPELT. The verification
 *    rule (geocode_verify.c) refuses any of these.
 * 5. Score (0..1): 0.55 x the share of the street's name found + 0.45 x the
 *    share of the query explained (words weighted by rarity), less 0.05 for
 *    a wrong district (postcode or ordinal of the same town), less 0.1 for a
 *    postcode held only by other towns; 0 when less than half of the
 *    street's name is found.
 * 6. House number on the best streets: that number and suffix, or the same
 *    number with another suffix (approximate, never verified), else the
 *    street alone. A number is never invented.
 *
 * Nothing is written: any number of threads may search one geocoder.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geocoder_internal.h"
#include "normalize.h"

#define MAX_MATCH   8        /* vocabulary matches kept per query token */
#define MAX_CAND    4096     /* candidate streets scored per query */
#define SEED_COMMON (MAX_CAND / 4) /* streets of a word too common to seed first */
#define TOP_STREETS 8        /* streets whose house numbers are looked at */
#define MIN_SCORE   0.3
#define SURE_SCORE  0.95     /* a first pass this good needs no second one */
#define DISTRICT_PENALTY 0.05
#define POSTCODE_PENALTY 0.1 /* a postcode held only by other towns of the base */
#define TOWNS_MAX   8        /* towns whose streets a query is matched against */
#define TOWN_PICKS  256      /* towns weighed for that */
#define TOWN_WORD_SPREAD 64  /* a word in more towns' names names none ("sur", "saint") */

#define TOWN_EVIDENCE (GEODATA_EVIDENCE_OTHER_TOWN | GEODATA_EVIDENCE_OTHER_POSTCODE \
                       | GEODATA_EVIDENCE_CONTRADICTION)

typedef struct qmatch { uint32_t word; float sim; } qmatch;

typedef struct qtok {
    const char *text;      /* normalised, NUL-terminated */
    size_t len;
    geodata_tok_kind kind; /* as read here: a suffix no address uses is a word */
    long number;           /* value of a NUMBER or ORDINAL */
    qmatch m[MAX_MATCH];
    int nm;
    float weight;          /* rarity of what it matched, or idf_unknown */
    uint64_t posts;        /* streets its matches point to */
    int in_city;           /* its best match is also a word of a city's name */
    int any_city;          /* one of its matches is a word of a city's name */
    int postcode;          /* a 5-digit number: the postcode, right or wrong */
    int stop;              /* an article or preposition */
    int noise;             /* says nothing of the place: "france", "cedex", ... */
    int exact;             /* it is itself a word of the vocabulary */
    int prefix;            /* autocompletion: the word being typed ... */
    const char *typed;     /* ... as typed ("pl" may begin "plaisance", not only be "place") */
    size_t typed_len;
    size_t pfx_lo, pfx_hi; /* the words it may begin: word_sorted[lo .. hi) */
    uint32_t town_seen;    /* the town last weighed for it + 1 (0: none) ... */
    float town_val;        /* ... and how it stands for a word of that town */
} qtok;

typedef struct parsed_query {
    qtok q[GEODATA_TOKENS_MAX];
    size_t n;
    char buf[GEODATA_QUERY_MAX * 3 + 64];   /* texts of words cut in two */
    long postcode;         /* the first 5-digit number, or -1 */
    int autocomplete;
    unsigned evidence;     /* town evidence of candidates whose street matched */
    uint32_t words[GEODATA_TOKENS_MAX * MAX_MATCH]; /* what its words (not postcodes) matched, */
    size_t n_words;        /* sorted, each once: for may_score */
    int any_prefix;        /* a word is being typed */
} parsed_query;

/* Words that say nothing of the place when they are not part of the street's
 * name: the country, and the details of a home inside its building. */
static const char *const noise_words[] = {
    "france", "cedex", "adresse", "appartement", "appt", "apt", "app", "etage", "batiment", "bat",
    "escalier", "esc", "porte", "code", "digicode", "interphone", "chez", "bureau", "boite",
};

static int is_noise(const char *w)
{
    for (size_t i = 0; i < sizeof noise_words / sizeof *noise_words; i++)
        if (strcmp(w, noise_words[i]) == 0)
            return 1;
    return 0;
}

/* ---- words ------------------------------------------------------------- */

/* Optimal string alignment distance (edits and adjacent swaps), or a value
 * above bound as soon as it must exceed it. Work: O(len(a) * len(b)). */
static int osa_distance(const char *a, size_t n, const char *b, size_t m, int bound)
{
    if ((n > m ? n - m : m - n) > (size_t)bound || n > 256 || m > 256)
        return bound + 1;
    int rows[3][257];
    int *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= m; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = (int)i;
        int best = cur[0];
        for (size_t j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = prev[j] + 1;
            if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v) v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            cur[j] = v;
            if (v < best) best = v;
        }
        if (best > bound)
            return bound + 1;
        int *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[m];
}

static void add_match(qtok *q, uint32_t word, float sim)
{
    for (int i = 0; i < q->nm; i++)
        if (q->m[i].word == word) {
            if (sim > q->m[i].sim) q->m[i].sim = sim;
            return;
        }
    if (q->nm < MAX_MATCH) {
        q->m[q->nm].word = word;
        q->m[q->nm++].sim = sim;
        return;
    }
    int worst = 0;
    for (int i = 1; i < q->nm; i++)
        if (q->m[i].sim < q->m[worst].sim) worst = i;
    if (sim > q->m[worst].sim) {
        q->m[worst].word = word;
        q->m[worst].sim = sim;
    }
}

typedef struct fuzzy_ctx { const geodata_geocoder *g; qtok *q; } fuzzy_ctx;

/* One deletion variant of the typed word: every vocabulary word sharing it is
 * a candidate, kept if truly within the allowed number of edits. */
static void fuzzy_variant(void *arg, const char *s, size_t n)
{
    fuzzy_ctx *c = arg;
    const geodata_geocoder *g = c->g;
    uint64_t h = gc_hash_bytes(s, n);
    size_t lo = 0, hi = g->n_del;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->del_hash[mid] < h) lo = mid + 1; else hi = mid;
    }
    const qtok *t = c->q;
    for (size_t i = lo; i < g->n_del && g->del_hash[i] == h; i++) {
        const gc_word *w = &g->word[g->del_word[i]];
        size_t shortest = w->len < t->len ? w->len : t->len;
        int allowed = gc_typo_distance_for(shortest) ? gc_typo_distance_for(shortest) : 1;
        int d = osa_distance(t->text, t->len, gc_str(g, w->text), w->len, allowed);
        if (d > 0 && d <= allowed) {
            size_t longest = w->len > t->len ? w->len : t->len;
            add_match(c->q, g->del_word[i], (float)(1.0 - (double)d / (double)longest));
        }
    }
}

/* The words of the vocabulary that begin with the prefix: [*lo, *hi) of
 * word_sorted. Work: two binary searches. */
static void prefix_range(const geodata_geocoder *g, const char *p, size_t n, size_t *lo, size_t *hi)
{
    size_t a = 0, b = g->n_word;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (strncmp(gc_str(g, g->word[g->word_sorted[mid]].text), p, n) < 0) a = mid + 1; else b = mid;
    }
    *lo = a;
    b = g->n_word;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (strncmp(gc_str(g, g->word[g->word_sorted[mid]].text), p, n) <= 0) a = mid + 1; else b = mid;
    }
    *hi = a;
}

/* Matches one token against the vocabulary: exactly, and with typos unless
 * the exact match is enough (exact_suffices and there is one). */
static void match_token(const geodata_geocoder *g, qtok *q, int exact_suffices)
{
    q->nm = 0;
    q->town_seen = 0;
    long exact = gc_word_find(g, q->text, q->len);
    q->exact = exact >= 0;
    if (exact >= 0)
        add_match(q, (uint32_t)exact, 1.0f);
    if (q->kind == GEODATA_TOK_NUMBER && q->number > 0 && q->number < 100) {
        /* "henry 4" for Henri IV: a number may be a street name's ordinal */
        char ord[8];
        int l = snprintf(ord, sizeof ord, "%lde", q->number);
        long w = gc_word_find(g, ord, (size_t)l);
        if (w >= 0)
            add_match(q, (uint32_t)w, 0.9f);
    }
    int letters = q->kind == GEODATA_TOK_WORD && gc_is_letters(q->text, q->len);
    /* A 3-letter word is only looked up as it is among the deletions: that
     * finds the 4-letter words it lacks one letter of. */
    if ((exact < 0 || !exact_suffices) && letters && q->len >= 3) {
        fuzzy_ctx c = { g, q };
        gc_deletions(q->text, q->len, gc_typo_distance_for(q->len), fuzzy_variant, &c);
    }
    if (exact < 0 && letters && q->len >= 2 && q->len <= 4)
        for (size_t i = 0; i < g->n_type_words; i++) {
            const gc_word *w = &g->word[g->type_words[i]];
            if (w->len >= 3 && osa_distance(q->text, q->len, gc_str(g, w->text), w->len, 1) == 1)
                add_match(q, g->type_words[i], (float)(1.0 - 1.0 / (double)(w->len > q->len ? w->len : q->len)));
        }
    float best = 0;
    q->weight = g->idf_unknown;
    q->posts = 0;
    q->in_city = q->any_city = 0;
    for (int i = 0; i < q->nm; i++) {
        const gc_word *w = &g->word[q->m[i].word];
        q->posts += w->npost;
        q->any_city |= w->in_city;
        if (q->m[i].sim > best) {
            best = q->m[i].sim;
            q->weight = w->idf;
            q->in_city = w->in_city;
        }
    }
    if (q->prefix) {
        /* The word being typed stands for every word it begins: its weight is
         * that of the commonest, its streets theirs (bounded by the caller). */
        q->posts = 0;
        for (size_t i = q->pfx_lo; i < q->pfx_hi; i++) {
            const gc_word *w = &g->word[g->word_sorted[i]];
            q->posts += w->npost;
            if (w->idf < q->weight || i == q->pfx_lo)
                q->weight = w->idf;
            q->any_city |= w->in_city;
        }
    }
}

static int is_type_word(const geodata_geocoder *g, uint32_t w)
{
    for (size_t i = 0; i < g->n_type_words; i++)
        if (g->type_words[i] == w)
            return 1;
    return 0;
}

/* How well token t stands for vocabulary word w: 0 when not at all. */
static float tok_sim(const geodata_geocoder *g, const qtok *t, uint32_t w)
{
    if (t->prefix) {
        const gc_word *gw = &g->word[w];
        if (gw->len >= t->typed_len && memcmp(gc_str(g, gw->text), t->typed, t->typed_len) == 0)
            return 1.0f;
    }
    float best = 0;
    for (int i = 0; i < t->nm; i++)
        if (t->m[i].word == w && t->m[i].sim > best)
            best = t->m[i].sim;
    return best;
}

/* Whether the held suffix rep exists. */
static int rep_held(const geodata_geocoder *g, const char *rep)
{
    for (size_t i = 0; i < g->n_reps; i++)
        if (strcmp(g->reps[i], rep) == 0)
            return 1;
    return 0;
}

/* Appends a token of text s (n bytes) to the query. */
static void push_tok(parsed_query *Q, char **w, const geodata_token *from, const char *s, size_t n,
                     geodata_tok_kind kind)
{
    if (Q->n >= GEODATA_TOKENS_MAX || *w + n + 1 > Q->buf + sizeof Q->buf)
        return;
    memcpy(*w, s, n);
    (*w)[n] = '\0';
    qtok *t = &Q->q[Q->n++];
    memset(t, 0, sizeof *t);
    t->text = *w;
    t->len = n;
    t->kind = kind;
    t->number = from->number;
    *w += n + 1;
}

/* A word the vocabulary lacks, cut into two words it holds ("lafayette" ->
 * la fayette, "ruedes" -> rue des, "goutted" -> goutte d): the cut whose
 * shorter half is longest; 0 when there is none. Work: len lookups. */
static size_t glued_cut(const geodata_geocoder *g, const char *s, size_t n)
{
    size_t best = 0, best_short = 0;
    for (size_t k = 1; k < n; k++) {
        size_t l = k, r = n - k;
        char one[2] = { 0, 0 };
        if ((l == 1 && !(one[0] = s[0], geodata_is_stop_word(one)))
            || (r == 1 && !(one[0] = s[k], geodata_is_stop_word(one))))
            continue;
        if (gc_word_find(g, s, l) < 0 || gc_word_find(g, s + k, r) < 0)
            continue;
        size_t shorter = l < r ? l : r;
        if (shorter > best_short) {
            best_short = shorter;
            best = k;
        }
    }
    return best;
}

/* Whether a vocabulary word lies one edit from s: then s is read as a typo
 * of it ("damesnil"), not as two words typed together ("dames nil"). */
static int near_word(const geodata_geocoder *g, const char *s, size_t n)
{
    qtok probe;
    memset(&probe, 0, sizeof probe);
    probe.text = s;
    probe.len = n;
    probe.kind = GEODATA_TOK_WORD;
    fuzzy_ctx c = { g, &probe };
    gc_deletions(s, n, 1, fuzzy_variant, &c);
    for (int i = 0; i < probe.nm; i++)
        if (probe.m[i].sim >= 1.0f - 1.0f / (float)n - 1e-6f)
            return 1;
    return 0;
}

/* The query's tokens as this search reads them (see the top of the file). */
static void prepare(const geodata_geocoder *g, const geodata_tokens *toks, int autocomplete,
                    int ends_in_word, parsed_query *Q)
{
    Q->n = 0;
    Q->postcode = -1;
    Q->autocomplete = autocomplete;
    Q->evidence = 0;
    char *w = Q->buf;
    for (size_t i = 0; i < toks->n; i++) {
        const geodata_token *t = &toks->tok[i];
        geodata_tok_kind kind = t->kind;
        if (kind == GEODATA_TOK_SUFFIX && t->len >= 2 && !rep_held(g, t->text))
            kind = GEODATA_TOK_WORD;
        int last = i + 1 == toks->n;
        if (kind == GEODATA_TOK_WORD && !(autocomplete && last && ends_in_word) && t->len >= 4
            && gc_is_letters(t->text, t->len) && gc_word_find(g, t->text, t->len) < 0
            && !near_word(g, t->text, t->len)) {
            size_t k = glued_cut(g, t->text, t->len);
            if (k) {
                push_tok(Q, &w, t, t->text, k, GEODATA_TOK_WORD);
                push_tok(Q, &w, t, t->text + k, t->len - k, GEODATA_TOK_WORD);
                continue;
            }
        }
        push_tok(Q, &w, t, t->text, t->len, kind);
        qtok *q = &Q->q[Q->n - 1];
        if (autocomplete && last && ends_in_word && kind == GEODATA_TOK_WORD && Q->n) {
            q->prefix = 1;
            q->typed = t->typed;
            q->typed_len = t->typed_len;
            prefix_range(g, q->typed, q->typed_len, &q->pfx_lo, &q->pfx_hi);
        }
    }
    for (size_t i = 0; i < Q->n; i++) {
        qtok *q = &Q->q[i];
        q->postcode = q->kind == GEODATA_TOK_NUMBER && q->len == 5;
        q->stop = q->kind == GEODATA_TOK_WORD && geodata_is_stop_word(q->text);
        /* a single letter ("bat. B") is never a town */
        q->noise = q->kind == GEODATA_TOK_WORD && (is_noise(q->text) || q->len == 1);
        if (q->postcode && Q->postcode < 0)
            Q->postcode = q->number;
    }
}

/* ---- postcodes --------------------------------------------------------- */

static int held_postcode(const geodata_geocoder *g, uint32_t pc)
{
    size_t lo = 0, hi = g->n_postcodes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->postcodes[mid] < pc) lo = mid + 1; else hi = mid;
    }
    return lo < g->n_postcodes && g->postcodes[lo] == pc;
}

static int town_holds_postcode(const geodata_geocoder *g, uint32_t town, uint32_t pc)
{
    uint64_t key = (uint64_t)pc << 32 | town;
    size_t lo = 0, hi = g->n_postcode_towns;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->postcode_towns[mid] < key) lo = mid + 1; else hi = mid;
    }
    return lo < g->n_postcode_towns && g->postcode_towns[lo] == key;
}

/* One typing slip apart (a digit wrong, or two neighbours swapped). */
static int postcode_slip(uint32_t a, uint32_t b)
{
    int x[5], y[5], at[5], nd = 0;
    for (int i = 4; i >= 0; i--) {
        x[i] = (int)(a % 10);
        y[i] = (int)(b % 10);
        a /= 10;
        b /= 10;
    }
    for (int i = 0; i < 5; i++)
        if (x[i] != y[i])
            at[nd++] = i;
    return nd <= 1 || (nd == 2 && at[1] == at[0] + 1 && x[at[0]] == y[at[1]] && x[at[1]] == y[at[0]]);
}

/* Whether the postcode is held or a slip of a held one. Work: the postcodes. */
static int postcode_plausible(const geodata_geocoder *g, uint32_t pc)
{
    if (held_postcode(g, pc))
        return 1;
    for (size_t i = 0; i < g->n_postcodes; i++)
        if (postcode_slip(pc, g->postcodes[i]))
            return 1;
    return 0;
}

/* ---- word roles and score ---------------------------------------------- */

typedef struct scored {
    uint32_t street;
    float score;
    int house;             /* query token index of the house number, or -1 */
    int suffix;            /* token index of its suffix, or -1 */
    unsigned evidence;     /* GEODATA_EVIDENCE_* */
} scored;

static int in_list_u32(const uint32_t *toks, uint32_t n, uint32_t w)
{
    for (uint32_t i = 0; i < n; i++)
        if (toks[i] == w)
            return 1;
    return 0;
}

/* How token t stands for a word of a town's name: as list_sim, but a typo
 * must keep the first letter ("Pais" is Paris, "Lille" is not Ville). */
static float town_sim(const geodata_geocoder *g, const qtok *t, const uint32_t *toks, uint32_t n)
{
    float best = 0;
    for (uint32_t i = 0; i < n; i++) {
        float s = tok_sim(g, t, toks[i]);
        if (s > best && (s >= 1.0f || gc_str(g, g->word[toks[i]].text)[0] == t->text[0]))
            best = s;
    }
    return best;
}

/* How token t stands for a word of the list: the best similarity, 0 if none. */
static float list_sim(const geodata_geocoder *g, const qtok *t, const uint32_t *toks, uint32_t n)
{
    float best = 0;
    if (t->prefix) {
        for (uint32_t i = 0; i < n; i++) {
            float s = tok_sim(g, t, toks[i]);
            if (s > best) best = s;
        }
        return best;
    }
    for (int k = 0; k < t->nm; k++)
        if (t->m[k].sim > best && in_list_u32(toks, n, t->m[k].word))
            best = t->m[k].sim;
    return best;
}

/*
 * Scores street s for the query (see the top of the file): roles, evidence,
 * house number. Work: O(tokens x (street words + town words) x matches),
 * plus O(tokens^2) for the order of the street's words.
 */
static void score_street(const geodata_geocoder *g, parsed_query *Q, uint32_t s, scored *out)
{
    const qtok *q = Q->q;
    size_t nq = Q->n;
    const gc_street *st = &g->street[s];
    const uint32_t *T = g->street_toks + st->tok;
    uint32_t nt = st->ntok < GEODATA_TOKENS_MAX ? st->ntok : GEODATA_TOKENS_MAX;
    const gc_city *city = &g->city[st->city];
    const uint32_t *C = g->city_toks + city->tok;
    const gc_town *town = &g->town[city->town];
    const uint32_t *W = g->town_toks + town->tok;
    /* Per token and per word of the name; only the first nq and nt entries
     * are used, and only they are cleared (this runs for every candidate). */
    int consumed[GEODATA_TOKENS_MAX], cpos[GEODATA_TOKENS_MAX];
    float ss[GEODATA_TOKENS_MAX], ct[GEODATA_TOKENS_MAX];
    int pos[GEODATA_TOKENS_MAX], other[GEODATA_TOKENS_MAX], skip[GEODATA_TOKENS_MAX];
    int chosen[GEODATA_TOKENS_MAX];
    float raw_best[GEODATA_TOKENS_MAX], word_got[GEODATA_TOKENS_MAX];
    for (size_t i = 0; i < nq; i++) {
        consumed[i] = other[i] = skip[i] = chosen[i] = 0;
        ss[i] = ct[i] = 0;
    }
    for (uint32_t j = 0; j < nt; j++)
        raw_best[j] = word_got[j] = 0;
    /* Numbers of the street's own name ("Rue du 4 Septembre", "Henri IV")
     * take the last matching numbers of the query, unless a word already says
     * them ("Première") or the number opens the query (there it is the
     * house: "2 Voie A/9" is number 2 of Voie A/9); the first number left is
     * the house. */
    for (uint32_t k = 0; k < nt; k++) {
        char c0 = gc_str(g, g->word[T[k]].text)[0];
        if (c0 < '0' || c0 > '9')
            continue; /* only numbers and ordinals ("4", "4e") */
        int said = 0;
        for (size_t i = 0; i < nq && !said; i++)
            said = q[i].kind != GEODATA_TOK_NUMBER && tok_sim(g, &q[i], T[k]) >= 1.0f;
        for (size_t i = nq; !said && i-- > 1;) {
            if (q[i].kind != GEODATA_TOK_NUMBER || q[i].postcode || consumed[i])
                continue;
            if (tok_sim(g, &q[i], T[k]) > 0) {
                consumed[i] = 1;
                cpos[i] = (int)k;
                break;
            }
        }
    }
    int house = -1, suffix = -1;
    for (size_t i = 0; i < nq && house < 0; i++)
        if (q[i].kind == GEODATA_TOK_NUMBER && !q[i].postcode && !consumed[i] && q[i].number >= 0
            && q[i].len <= 4)
            house = (int)i;
    if (house >= 0 && (size_t)house + 1 < nq && q[house + 1].kind == GEODATA_TOK_SUFFIX)
        suffix = house + 1;

    /* What each token may be for this street: sim[i][j] for its word j. */
    float sim[GEODATA_TOKENS_MAX][GEODATA_TOKENS_MAX];
    int first = -1;
    for (size_t i = 0; i < nq; i++) {
        pos[i] = -1;
        if ((int)i == house || (int)i == suffix || q[i].postcode) {
            skip[i] = 1;
            continue;
        }
        if (consumed[i]) {
            ss[i] = 1;
            pos[i] = cpos[i];
        } else if (q[i].kind != GEODATA_TOK_NUMBER) {
            for (uint32_t j = 0; j < nt; j++) {
                float v = sim[i][j] = tok_sim(g, &q[i], T[j]);
                if (v > ss[i]) {
                    ss[i] = v;
                    pos[i] = (int)j;
                }
            }
        }
        if (q[i].any_city || q[i].prefix) {
            qtok *t = &Q->q[i];   /* candidates mostly share a town: keep the last one */
            if (t->town_seen != city->town + 1) {
                t->town_seen = city->town + 1;
                t->town_val = town_sim(g, t, W, town->ntok);
            }
            ct[i] = t->town_val;
            other[i] = !ct[i] && q[i].any_city;
        }
        if (ss[i] > 0 && first < 0)
            first = (int)i;
    }
    /* The town part starts at a postcode or a town's word that is not one of
     * the street's, once the street has begun. */
    size_t town_start = nq;
    for (size_t i = first < 0 ? nq : (size_t)first + 1; i < nq; i++)
        if (q[i].postcode || (ss[i] == 0 && (ct[i] > 0 || other[i]))) {
            town_start = i;
            break;
        }
    /* Street words in the name's order: among the tokens before the town
     * part, the heaviest chain of (token, street word) pairs increasing in
     * both, each token and each word used once. chain[j] is the best chain
     * ending at word j so far; at[i][j] says which pair came before (i, j).
     * Work: O(tokens x street words). */
    double chain[GEODATA_TOKENS_MAX];
    int chain_tok[GEODATA_TOKENS_MAX];
    short at_i[GEODATA_TOKENS_MAX][GEODATA_TOKENS_MAX], at_j[GEODATA_TOKENS_MAX][GEODATA_TOKENS_MAX];
    for (uint32_t j = 0; j < nt; j++) {
        chain[j] = -1;
        chain_tok[j] = -1;
    }
    for (size_t i = 0; i < town_start; i++) {
        if (skip[i] || ss[i] <= 0)
            continue;
        if (q[i].kind == GEODATA_TOK_NUMBER || q[i].kind == GEODATA_TOK_SUFFIX) {
            chosen[i] = 1; /* the name's own numbers ("1S2 Avenue ...") keep no order */
            continue;
        }
        double here[GEODATA_TOKENS_MAX];
        double run = 0;
        int run_j = -1;
        for (uint32_t j = 0; j < nt; j++) {
            here[j] = -1;
            if (sim[i][j] > 0) {
                here[j] = run + g->word[T[j]].idf * sim[i][j];
                at_i[i][j] = (short)(run_j >= 0 ? chain_tok[run_j] : -1);
                at_j[i][j] = (short)run_j;
            }
            if (chain[j] > run) {
                run = chain[j];
                run_j = (int)j;
            }
        }
        for (uint32_t j = 0; j < nt; j++)
            if (here[j] > chain[j]) {
                chain[j] = here[j];
                chain_tok[j] = (int)i;
            }
    }
    int end_j = -1;
    for (uint32_t j = 0; j < nt; j++)
        if (chain[j] >= 0 && (end_j < 0 || chain[j] > chain[end_j]))
            end_j = (int)j;
    int last = -1, begin = -1;
    for (int i = end_j >= 0 ? chain_tok[end_j] : -1, j = end_j; i >= 0;) {
        chosen[i] = 1;
        ss[i] = sim[i][j];
        pos[i] = j;
        if (last < 0) last = i;
        begin = i;
        int pi = at_i[i][j], pj = at_j[i][j];
        i = pi;
        j = pj;
    }
    for (size_t i = 0; i < town_start; i++)
        if (chosen[i] && (int)i > last)
            last = (int)i;
    if (last >= 0 && (size_t)last + 1 < town_start)
        town_start = (size_t)last + 1;

    /* Coverage of the street's name, of the query, and the evidence. */
    double sw = 0, raw = 0, qw = 0, qm = 0, penalty = 0;
    unsigned evidence = 0;
    int wrong_district = 0;
    for (size_t i = 0; i < nq; i++) {
        if (ss[i] > 0 && pos[i] >= 0 && ss[i] > raw_best[pos[i]])
            raw_best[pos[i]] = ss[i];
        if (skip[i])
            continue;
        if (chosen[i] && ss[i] > word_got[pos[i]])
            word_got[pos[i]] = ss[i];  /* each word of the name counts once */
        int in_town = i >= town_start, leading = begin < 0 || (int)i < begin;
        if (!chosen[i] && (q[i].kind == GEODATA_TOK_NUMBER || q[i].kind == GEODATA_TOK_SUFFIX
                           || (q[i].noise && (in_town || leading))))
            continue; /* a number range ("4-16"), a district number, "France", "bât. B" */
        qw += q[i].weight;
        if (chosen[i]) {
            qm += q[i].weight * ss[i];
            /* A real word read as a typo of another ("5 rue de la gare" for
             * Rue de la Mare) is not the person's own word for this street. */
            if (q[i].exact && ss[i] < 1.0f && q[i].kind == GEODATA_TOK_WORD
                && !is_type_word(g, T[pos[i]]))  /* "ours de Vincennes" is still Cours */
                evidence |= GEODATA_EVIDENCE_RESPELT;
        } else if ((in_town || leading) && ct[i] > 0) {
            qm += q[i].weight * ct[i];
            if (!list_sim(g, &q[i], C, city->ntok))
                wrong_district = 1;  /* "Paris 11e" for a street of the 12th */
        } else if (q[i].stop) {
            /* an article left over says nothing against the street */
        } else if (in_town) {
            evidence |= other[i] ? GEODATA_EVIDENCE_CONTRADICTION : GEODATA_EVIDENCE_OTHER_TOWN;
        } else if (leading && other[i]) {
            evidence |= GEODATA_EVIDENCE_CONTRADICTION;
        } else if (!(q[i].prefix && Q->autocomplete)) {
            evidence |= GEODATA_EVIDENCE_UNEXPLAINED;
        }
    }
    for (uint32_t j = 0; j < nt; j++) {
        raw += g->word[T[j]].idf * raw_best[j];
        sw += g->word[T[j]].idf * word_got[j];
    }
    if (Q->postcode >= 0 && (uint32_t)Q->postcode != st->postcode_value) {
        uint32_t pc = (uint32_t)Q->postcode;
        if (town_holds_postcode(g, city->town, pc))
            wrong_district = 1;
        else if (held_postcode(g, pc)) {
            evidence |= GEODATA_EVIDENCE_CONTRADICTION;
            penalty += POSTCODE_PENALTY;  /* the same street name in the postcode's town wins */
        } else if (st->postcode_value && postcode_slip(pc, st->postcode_value))
            wrong_district = 1;
        else
            evidence |= GEODATA_EVIDENCE_OTHER_POSTCODE;
    }
    penalty += wrong_district ? DISTRICT_PENALTY : 0;
    double street_cov = st->weight > 0 ? sw / st->weight : 0;
    double query_cov = qw > 0 ? qm / qw : 1;
    double score = street_cov < 0.5 ? 0 : 0.55 * street_cov + 0.45 * query_cov - penalty;
    /* A street whose words were all there, read without roles, but which the
     * roles set aside for another town's words: the query names that town. */
    if (st->weight > 0 && raw / st->weight >= 0.5)
        Q->evidence |= evidence & TOWN_EVIDENCE;
    out->street = s;
    out->score = (float)(score > 0 ? score : 0);
    out->house = house;
    out->suffix = suffix;
    out->evidence = evidence;
}

static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->street > y->street) - (x->street < y->street);
}

/* ---- house numbers ----------------------------------------------------- */

/* The first address of street s with this number: its index, or -1. */
static long first_with_number(const geodata_geocoder *g, uint32_t s, long number)
{
    const gc_street *st = &g->street[s];
    size_t lo = st->first, hi = (size_t)st->first + st->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->addr[mid].number < number) lo = mid + 1; else hi = mid;
    }
    return lo < (size_t)st->first + st->count && g->addr[lo].number == number ? (long)lo : -1;
}

/* The address of street s with this number and suffix, or NULL. */
static const gc_addr *find_number(const geodata_geocoder *g, uint32_t s, long number, const char *rep)
{
    const gc_street *st = &g->street[s];
    long i = first_with_number(g, s, number);
    for (; i >= 0 && (size_t)i < (size_t)st->first + st->count && g->addr[i].number == number; i++)
        if (strcmp(g->reps[g->addr[i].rep], rep) == 0)
            return &g->addr[i];
    return NULL;
}

/* Turns a scored street into a result: the house number if it exists there,
 * the same number with another suffix (approximate), else the street. */
static void resolve(const geodata_geocoder *g, const parsed_query *Q, const scored *c,
                    geodata_geocode_result *r)
{
    const gc_street *st = &g->street[c->street];
    const gc_addr *middle = &g->addr[st->first + st->count / 2];
    if (c->house < 0) {
        gc_fill_result(g, middle, GEODATA_MATCH_STREET, c->score * 0.9, r);
        r->evidence = c->evidence;
        return;
    }
    long number = Q->q[c->house].number;
    const char *rep = c->suffix >= 0 ? Q->q[c->suffix].text : "";
    const gc_addr *a = find_number(g, c->street, number, rep);
    long any;
    if (a) {
        gc_fill_result(g, a, GEODATA_MATCH_HOUSENUMBER, c->score, r);
    } else if (strcmp(rep, "a") == 0 && (a = find_number(g, c->street, number, "")) != NULL) {
        /* "12 a rue ..." is more often "12, à la rue" than the suffix a. */
        gc_fill_result(g, a, GEODATA_MATCH_HOUSENUMBER, c->score * 0.9, r);
    } else if ((a = find_number(g, c->street, number, "")) != NULL
               || (any = first_with_number(g, c->street, number)) >= 0) {
        /* "19B" where only 19 exists, or 19 where only 19 bis does. */
        gc_fill_result(g, a ? a : &g->addr[any], GEODATA_MATCH_HOUSENUMBER, c->score * 0.9, r);
        r->approximate = 1;
    } else {
        gc_fill_result(g, middle, GEODATA_MATCH_STREET, c->score * 0.6, r);
    }
    r->typed_number = (int)number;
    r->evidence = c->evidence;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_result(const void *a, const void *b)
{
    const geodata_geocode_result *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return 0;
}

/* ---- search ------------------------------------------------------------ */

/* Whether street s may score at all: the query holds words standing for at
 * least half of the weight of its name, read without roles or order. This
 * bounds from above what score_street finds (its share of the name, and the
 * share read without roles that raises town evidence), so a street that
 * fails here scores 0 there and leaves no evidence. Work: the street's words
 * times the query's matches. */
static int may_score(const geodata_geocoder *g, const parsed_query *Q, uint32_t s)
{
    const gc_street *st = &g->street[s];
    uint32_t nt = st->ntok < GEODATA_TOKENS_MAX ? st->ntok : GEODATA_TOKENS_MAX;
    double bound = 0;
    for (uint32_t k = 0; k < nt; k++) {
        uint32_t w = g->street_toks[st->tok + k];
        size_t lo = 0, hi = Q->n_words;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (Q->words[mid] < w) lo = mid + 1; else hi = mid;
        }
        int held = lo < Q->n_words && Q->words[lo] == w;
        for (size_t i = 0; i < Q->n && !held && Q->any_prefix; i++)
            held = Q->q[i].prefix && !Q->q[i].postcode && tok_sim(g, &Q->q[i], w) > 0;
        if (held)
            bound += g->word[w].idf;
    }
    return st->weight > 0 && bound / st->weight >= 0.5;
}

/* The first entry of the sorted array keyed (n entries) at or after key. */
static size_t keyed_at(const uint64_t *keyed, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (keyed[mid] < key) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* An area whose streets are listed: a postcode (pc_street) or a town
 * (town_street), both sorted key << 32 | street. */
typedef enum { AREA_POSTCODE, AREA_TOWN } area_kind;

static int street_in_area(const geodata_geocoder *g, area_kind kind, uint32_t key, uint32_t s)
{
    const gc_street *st = &g->street[s];
    return kind == AREA_POSTCODE ? st->postcode_value == key : g->city[st->city].town == key;
}

/* Whether token t is counted in choosing an area's side (area_candidates). */
static int query_word(const qtok *t)
{
    return !t->postcode && !t->stop;
}

/* The streets of one area (a postcode the query names, or a town) that hold
 * one of the query's words, appended to cand[nc .. MAX_CAND); the new count.
 * However common the words ("Avenue Jean Jaurès" is in thousands of towns,
 * "Oise" in street and town names alike), an area has a few hundred to a few
 * thousand streets. They are read from the side that is shorter: the
 * postings of all the query's words, kept when in the area, or the area's
 * streets, kept when they may score (may_score). Work: the smaller of the
 * two, plus two binary searches. */
static size_t area_candidates(const geodata_geocoder *g, const parsed_query *Q, area_kind kind,
                              uint32_t key, uint32_t *cand, size_t nc)
{
    const uint64_t *keyed = kind == AREA_POSTCODE ? g->pc_street : g->town_street;
    size_t n = kind == AREA_POSTCODE ? g->n_pc_street : g->n_town_street;
    size_t lo = keyed_at(keyed, n, (uint64_t)key << 32);
    size_t hi = keyed_at(keyed, n, (uint64_t)(key + 1) << 32);
    uint64_t postings = 0;
    for (size_t i = 0; i < Q->n; i++)
        if (query_word(&Q->q[i]))
            postings += Q->q[i].posts;
    if (postings >= hi - lo) {
        for (; lo < hi && nc < MAX_CAND; lo++)
            if (may_score(g, Q, (uint32_t)keyed[lo]))
                cand[nc++] = (uint32_t)keyed[lo];
        return nc;
    }
    for (size_t i = 0; i < Q->n; i++) {
        const qtok *t = &Q->q[i];
        if (!query_word(t))
            continue;
        for (int m = 0; m < t->nm; m++) {
            const gc_word *w = &g->word[t->m[m].word];
            for (uint32_t p = 0; p < w->npost && nc < MAX_CAND; p++)
                if (street_in_area(g, kind, key, g->posts[w->post + p]))
                    cand[nc++] = g->posts[w->post + p];
        }
        if (t->prefix)
            for (size_t k = t->pfx_lo; k < t->pfx_hi; k++) {
                const gc_word *w = &g->word[g->word_sorted[k]];
                for (uint32_t p = 0; p < w->npost && nc < MAX_CAND; p++)
                    if (street_in_area(g, kind, key, g->posts[w->post + p]))
                        cand[nc++] = g->posts[w->post + p];
            }
    }
    return nc;
}

/* How much of town t's name the query holds: the share of its words that a
 * query word stands for (as town_sim reads them). */
static float town_cover(const geodata_geocoder *g, const parsed_query *Q, uint32_t t)
{
    const gc_town *tw = &g->town[t];
    uint32_t held = 0;
    for (uint32_t k = 0; k < tw->ntok; k++) {
        uint32_t w = g->town_toks[tw->tok + k];
        for (size_t i = 0; i < Q->n; i++)
            if (!Q->q[i].postcode && town_sim(g, &Q->q[i], &w, 1) > 0) {
                held++;
                break;
            }
    }
    return tw->ntok ? (float)held / (float)tw->ntok : 0;
}

typedef struct town_pick { uint32_t town; float cover; } town_pick;

static int cmp_town_pick(const void *a, const void *b)
{
    const town_pick *x = a, *y = b;
    if (x->cover != y->cover)
        return x->cover < y->cover ? 1 : -1;
    return (x->town > y->town) - (x->town < y->town);
}

/* The towns the query names, best first, into towns[0 .. TOWNS_MAX); their
 * number. A town is reached through a word of its name that names at most
 * TOWN_WORD_SPREAD towns ("Charville", not "sur" or "Saint"), and kept when
 * the query holds at least half of its name's words. Work: the towns the
 * query's words name, times their words. */
static size_t named_towns(const geodata_geocoder *g, const parsed_query *Q, uint32_t *towns)
{
    town_pick pick[TOWN_PICKS];
    size_t np = 0;
    for (size_t i = 0; i < Q->n; i++) {
        const qtok *t = &Q->q[i];
        if (!t->any_city || t->postcode || t->stop || t->noise || t->kind != GEODATA_TOK_WORD)
            continue;
        for (int m = 0; m < t->nm; m++) {
            uint32_t w = t->m[m].word;
            if (!g->word[w].in_city)
                continue;
            size_t lo = keyed_at(g->word_town, g->n_word_town, (uint64_t)w << 32);
            size_t hi = keyed_at(g->word_town, g->n_word_town, (uint64_t)(w + 1) << 32);
            if (hi - lo > TOWN_WORD_SPREAD)
                continue;
            for (; lo < hi && np < TOWN_PICKS; lo++)
                pick[np++].town = (uint32_t)g->word_town[lo];
        }
    }
    for (size_t i = 0; i < np; i++)
        pick[i].cover = 0;
    qsort(pick, np, sizeof *pick, cmp_town_pick);   /* by town: each once below */
    size_t u = 0;
    for (size_t i = 0; i < np; i++) {
        if (i && pick[i].town == pick[i - 1].town)
            continue;
        pick[u].town = pick[i].town;
        pick[u].cover = town_cover(g, Q, pick[i].town);
        if (pick[u].cover >= 0.5f)
            u++;
    }
    qsort(pick, u, sizeof *pick, cmp_town_pick);
    size_t n = u < TOWNS_MAX ? u : TOWNS_MAX;
    for (size_t i = 0; i < n; i++)
        towns[i] = pick[i].town;
    return n;
}

/* The candidates of the seed words order[0 .. no) (the rarest first; see
 * search()), appended to cand[nc .. MAX_CAND); the new count. Work: the
 * seeds' postings, at most MAX_CAND. */
static size_t seed_candidates(const geodata_geocoder *g, const parsed_query *Q, const int *order,
                              int no, uint32_t *cand, size_t nc)
{
    const qtok *q = Q->q;
    for (int k = 0, used = 0; k < no && used < 3 && nc < MAX_CAND; k++) {
        const qtok *s = &q[order[k]];
        if (k > 0 && s->posts * 50 > g->n_street)
            continue;
        used++;
        for (int m = 0; m < s->nm; m++) {
            const gc_word *w = &g->word[s->m[m].word];
            for (uint32_t p = 0; p < w->npost && nc < MAX_CAND; p++)
                cand[nc++] = g->posts[w->post + p];
        }
        if (s->prefix)
            for (size_t i = s->pfx_lo; i < s->pfx_hi && nc < MAX_CAND; i++) {
                const gc_word *w = &g->word[g->word_sorted[i]];
                for (uint32_t p = 0; p < w->npost && nc < MAX_CAND; p++)
                    cand[nc++] = g->posts[w->post + p];
            }
    }
    return nc;
}

/* Scores the candidates cand[done .. nc) that are not among cand[0 .. done)
 * (the streets scored before, sorted), appending to sc[*ns ..) those that
 * score at least MIN_SCORE; returns how many cand[0 ..) now holds, sorted,
 * each street once. */
static size_t score_candidates(const geodata_geocoder *g, parsed_query *Q, uint32_t *cand, size_t done,
                               size_t nc, scored *sc, size_t *ns)
{
    qsort(cand + done, nc - done, sizeof *cand, cmp_u32);
    size_t kept = done;
    for (size_t i = done; i < nc; i++) {
        if ((i > done && cand[i] == cand[i - 1]) || bsearch(&cand[i], cand, done, sizeof *cand, cmp_u32))
            continue;
        cand[kept++] = cand[i];
        if (!may_score(g, Q, cand[i]))
            continue;
        scored *out = &sc[*ns];
        score_street(g, Q, cand[i], out);
        /* Autocompletion offers only what the person's words support: never a
         * street of this base for a query that names another town. */
        if (out->score >= MIN_SCORE && !(Q->autocomplete && (out->evidence & TOWN_EVIDENCE)))
            (*ns)++;
    }
    qsort(cand, kept, sizeof *cand, cmp_u32);
    return kept;
}

static float best_score(const scored *sc, size_t n)
{
    float best = 0;
    for (size_t i = 0; i < n; i++)
        if (sc[i].score > best)
            best = sc[i].score;
    return best;
}

/* One search pass over the query (see the top of the file). */
static int search(const geodata_geocoder *g, parsed_query *Q, int exact_suffices, size_t limit,
                  geodata_geocode_result *results, size_t *n)
{
    *n = 0;
    qtok *q = Q->q;
    Q->evidence = 0;
    for (size_t i = 0; i < Q->n; i++)
        match_token(g, &q[i], exact_suffices);
    Q->n_words = 0;
    Q->any_prefix = 0;
    for (size_t i = 0; i < Q->n; i++) {
        Q->any_prefix |= q[i].prefix;
        for (int m = 0; m < q[i].nm && !q[i].postcode; m++)
            Q->words[Q->n_words++] = q[i].m[m].word;
    }
    qsort(Q->words, Q->n_words, sizeof *Q->words, cmp_u32);
    size_t u = 0;
    for (size_t i = 0; i < Q->n_words; i++)
        if (!u || Q->words[u - 1] != Q->words[i])
            Q->words[u++] = Q->words[i];
    Q->n_words = u;
    /* Candidate streets come from seeds: the rarest street word (not a
     * number, not a city's word: "Paris" is also in "Parvis du Tribunal de
     * Paris"), however common, then up to two more words, numbers last, if
     * rare (in fewer than one street in 50). A word too common to list its
     * streets in full (more than SEED_COMMON: "rue", "grande") comes after
     * all the others, city words included: in a country's base many street
     * words are also towns' ("Rue de Lorraine", "Rue du Château"). */
    int order[GEODATA_TOKENS_MAX], no = 0;
    for (size_t i = 0; i < Q->n; i++)
        if ((q[i].nm || q[i].prefix) && q[i].posts && !q[i].postcode && q[i].kind != GEODATA_TOK_SUFFIX)
            order[no++] = (int)i;
    for (int i = 1; i < no; i++)
        for (int j = i; j > 0; j--) {
            const qtok *a = &q[order[j - 1]], *b = &q[order[j]];
            int ak = a->posts > SEED_COMMON ? 4 : (a->kind == GEODATA_TOK_NUMBER) * 2 + a->in_city;
            int bk = b->posts > SEED_COMMON ? 4 : (b->kind == GEODATA_TOK_NUMBER) * 2 + b->in_city;
            if (ak > bk || (ak == bk && a->posts > b->posts)) {
                int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
            }
        }
    uint32_t *cand = malloc(MAX_CAND * sizeof *cand);
    scored *sc = malloc(MAX_CAND * sizeof *sc);
    if (!cand || !sc) {
        free(cand);
        free(sc);
        return GEODATA_ENOMEM;
    }
    /* A postcode the base holds names the town, as it does for a person:
     * the streets of that postcode are scored first. Then, while no sure
     * answer is found (no postcode, a wrong one, another district of the
     * town), the streets of the towns the query names, then the seeds'.
     * At most MAX_CAND streets are scored in all. */
    size_t ns = 0, done = 0;
    if (Q->postcode >= 0 && held_postcode(g, (uint32_t)Q->postcode))
        done = score_candidates(g, Q, cand, 0, area_candidates(g, Q, AREA_POSTCODE, (uint32_t)Q->postcode,
                                                               cand, 0), sc, &ns);
    if (!(ns > 0 && best_score(sc, ns) >= SURE_SCORE)) {
        uint32_t towns[TOWNS_MAX];
        size_t nt = named_towns(g, Q, towns), nc = done;
        for (size_t i = 0; i < nt; i++)
            nc = area_candidates(g, Q, AREA_TOWN, towns[i], cand, nc);
        done = score_candidates(g, Q, cand, done, nc, sc, &ns);
    }
    if (!(ns > 0 && best_score(sc, ns) >= SURE_SCORE))
        score_candidates(g, Q, cand, done, seed_candidates(g, Q, order, no, cand, done), sc, &ns);
    qsort(sc, ns, sizeof *sc, cmp_scored);
    geodata_geocode_result tmp[TOP_STREETS];
    size_t nt = ns < TOP_STREETS ? ns : TOP_STREETS;
    for (size_t i = 0; i < nt; i++)
        resolve(g, Q, &sc[i], &tmp[i]);
    qsort(tmp, nt, sizeof *tmp, cmp_result);
    for (size_t i = 0; i < nt && *n < limit; i++)
        if (tmp[i].score >= MIN_SCORE)
            results[(*n)++] = tmp[i];
    free(cand);
    free(sc);
    return GEODATA_OK;
}

const char *geodata_geocode_query_problem(const char *query)
{
    if (!query)
        return "the query is empty";
    size_t len = strlen(query);
    if (len > GEODATA_QUERY_MAX)
        return "the query is longer than 512 bytes";
    if (!geodata_utf8_valid(query, len))
        return "the query is not valid UTF-8";
    int blank = 1;
    for (const unsigned char *c = (const unsigned char *)query; *c; c++) {
        /* C0 controls and DEL; C1 controls are U+0080..U+009F, 0xC2 0x80..0x9F */
        if (*c < 0x20 || *c == 0x7F || (*c == 0xC2 && c[1] >= 0x80 && c[1] <= 0x9F))
            return "the query holds control characters";
        blank &= *c == ' ';
    }
    return blank ? "the query is empty" : NULL;
}

/* Both entry points: words found as typed are taken as typed first; only
 * when that gives no sure answer are they also read as typos of other words
 * (a typo can make another real word: "rue de la paix" for "poix"). When
 * nothing is found but the query names a town or postcode the base does not
 * cover, one GEODATA_MATCH_NONE result carries that evidence, so that the
 * verification rule can say so. */
static int geocode(const geodata_geocoder *g, const char *text, int autocomplete, size_t limit,
                   geodata_geocode_result *results, size_t *n)
{
    *n = 0;
    if (geodata_geocode_query_problem(text))
        return GEODATA_EINVAL;
    size_t len = strlen(text);
    geodata_tokens toks;
    if (geodata_normalize(text, len, &toks))
        return GEODATA_EINVAL;
    if (limit == 0 || g->n_street == 0)
        return GEODATA_OK;
    unsigned char end = len ? (unsigned char)text[len - 1] : ' ';
    int ends_in_word = end >= 0x80 || (end >= '0' && end <= '9') || ((end | 0x20) >= 'a' && (end | 0x20) <= 'z');
    parsed_query Q;
    prepare(g, &toks, autocomplete, ends_in_word, &Q);
    /* While a word is being typed, typos are looked for only when its
     * letters so far begin no street at all. */
    int rc = search(g, &Q, 1, limit, results, n);
    if (!rc && (autocomplete ? *n == 0 : !(*n > 0 && results[0].score >= SURE_SCORE)))
        rc = search(g, &Q, 0, limit, results, n);
    if (rc || *n > 0 || autocomplete)
        return rc;
    unsigned evidence = Q.evidence;
    if (Q.postcode >= 0 && !postcode_plausible(g, (uint32_t)Q.postcode))
        evidence |= GEODATA_EVIDENCE_OTHER_POSTCODE;
    if (evidence) {
        memset(&results[0], 0, sizeof results[0]);
        results[0].type = GEODATA_MATCH_NONE;
        results[0].typed_number = -1;
        results[0].rep = results[0].street = results[0].postcode = results[0].city = "";
        results[0].evidence = evidence;
        *n = 1;
    }
    return GEODATA_OK;
}

int geodata_geocode(const geodata_geocoder *g, const char *query, size_t limit,
                    geodata_geocode_result *results, size_t *n)
{
    return geocode(g, query, 0, limit, results, n);
}

int geodata_geocode_autocomplete(const geodata_geocoder *g, const char *query, size_t limit,
                                 geodata_geocode_result *results, size_t *n)
{
    return geocode(g, query, 1, limit, results, n);
}
