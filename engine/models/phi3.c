/*
 * phi3.c — Phi3ForCausalLM (Phi-3 mini/medium, 4k and 128k): the shared
 * decoder with fused projections, sliced by rows (row-major, so each slice
 * is contiguous), in transformers' order:
 *   qkv_proj     [H*d + 2*K*d, D] = q rows, then k rows, then v rows
 *   gate_up_proj [2F, D]          = gate rows, then up rows (chunk(2) order)
 * Its rope variants (longrope for the 128k models) live in rope.c and its
 * sliding window in the decoder's attention.
 */
#include <stdio.h>

#include "decoder.h"
#include "error.h"

static slm_status load_layer(slm_model *m, int l, slm_decoder_layer *L, slm_error *err)
{
    const slm_config *c = &m->cfg;
    /* int64 products; slm_config_check bounds them to int rows */
    int64_t D = c->hidden_size, F = c->intermediate_size, d = c->head_dim;
    int64_t Hd = (int64_t)c->n_heads * d, Kd = (int64_t)c->n_kv_heads * d;
    int64_t vec[1] = {D};
    slm_weight qkv[3], gate_up[2];
    const int64_t qkv_rows[3] = {Hd, Kd, Kd}, gate_up_rows[2] = {F, F};
    char name[160];
#define LAYER_TENSOR(suffix) (snprintf(name, sizeof name, "model.layers.%d." suffix, l), name)
    SLM_TRY(slm_model_matrix_parts(m, LAYER_TENSOR("self_attn.qkv_proj.weight"), qkv_rows, 3, D,
                                   qkv, err));
    SLM_TRY(slm_model_matrix(m, LAYER_TENSOR("self_attn.o_proj.weight"), D, Hd, false, &L->wo,
                             err));
    SLM_TRY(slm_model_matrix_parts(m, LAYER_TENSOR("mlp.gate_up_proj.weight"), gate_up_rows, 2,
                                   D, gate_up, err));
    SLM_TRY(slm_model_matrix(m, LAYER_TENSOR("mlp.down_proj.weight"), D, F, false, &L->w_down,
                             err));
    SLM_TRY(slm_model_weight_f32(m, LAYER_TENSOR("input_layernorm.weight"), vec, 1,
                                 &L->attn_norm, err));
    SLM_TRY(slm_model_weight_f32(m, LAYER_TENSOR("post_attention_layernorm.weight"), vec, 1,
                                 &L->ffn_norm, err));
#undef LAYER_TENSOR
    L->wq = qkv[0], L->wk = qkv[1], L->wv = qkv[2];
    L->w_gate = gate_up[0], L->w_up = gate_up[1];
    return SLM_OK;
}

static slm_status phi3_load(slm_model *m, slm_error *err)
{
    slm_decoder_weights *w;
    SLM_TRY(slm_decoder_new(m, &w, err));
    SLM_TRY(slm_decoder_load_ends(m, w, "model.embed_tokens.weight", "model.norm.weight", err));
    for (int l = 0; l < m->cfg.n_layers; l++)
        SLM_TRY(load_layer(m, l, &w->layers[l], err));
    return SLM_OK;
}

const slm_arch slm_arch_phi3 = {
    .architecture = "Phi3ForCausalLM",
    .model_type = "phi3",
    .load = phi3_load,
    .free_weights = slm_decoder_free,
    .forward = slm_decoder_forward,
};
