/*
 * decoder.h — the decoder-only transformer shared by the Llama family and
 * Phi-3: pre-RMSNorm blocks, RoPE, grouped-query causal attention (optionally
 * windowed), SwiGLU MLP. Architectures differ only in how checkpoint tensors
 * map onto these weights (llama.c: separate projections; phi3.c: fused
 * qkv_proj and gate_up_proj, sliced by rows) and in their rope settings.
 * Shapes: D hidden, F intermediate, H heads, K kv heads, d head_dim, V vocab.
 */
#ifndef SLM_DECODER_H
#define SLM_DECODER_H

#include "model.h"
#include "session.h"

typedef struct {
    const float *attn_norm; /* [D] */
    slm_weight wq;          /* [H*d, D] */
    slm_weight wk;          /* [K*d, D] */
    slm_weight wv;          /* [K*d, D] */
    slm_weight wo;          /* [D, H*d] */
    const float *ffn_norm;  /* [D] */
    slm_weight w_gate;      /* [F, D] */
    slm_weight w_up;        /* [F, D] */
    slm_weight w_down;      /* [D, F] */
} slm_decoder_layer;

typedef struct {
    slm_weight embed;   /* [V, D] (one row read per token) */
    const float *norm;  /* [D] */
    slm_weight lm_head; /* [V, D], = embed when tied */
    slm_decoder_layer *layers;
} slm_decoder_weights;

/* Allocates the weight struct into m->weights after checking the parts of
 * config.json every decoder shares (activation). */
slm_status slm_decoder_new(slm_model *m, slm_decoder_weights **out, slm_error *err);
void slm_decoder_free(void *weights);

/* Embedding, final norm and output head (lm_head, or the embedding when
 * tie_word_embeddings), under their usual names. */
slm_status slm_decoder_load_ends(slm_model *m, slm_decoder_weights *w, const char *embed_name,
                                 const char *norm_name, slm_error *err);

/* slm_arch.forward for every decoder architecture: one pass over the steps
 * of n_seqs sequences (distinct sessions of one model) in the scratch. */
slm_status slm_decoder_forward(slm_scratch *sc, const slm_seq_step *seqs, int n_seqs,
                               slm_error *err);

#endif
