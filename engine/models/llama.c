/*
 * llama.c — LlamaForCausalLM (Llama 2/3 family, TinyLlama, SmolLM2): maps the
 * checkpoint's separate q/k/v/o and gate/up/down projections onto the shared
 * decoder (decoder.c holds the forward pass).
 */
#include <stdio.h>

#include "decoder.h"
#include "error.h"

static slm_status load_layer(slm_model *m, int l, slm_decoder_layer *L, slm_error *err)
{
    const slm_config *c = &m->cfg;
    /* int64 products; slm_config_check bounds them to int rows */
    int64_t D = c->hidden_size, F = c->intermediate_size, d = c->head_dim;
    int64_t Hd = (int64_t)c->n_heads * d, Kd = (int64_t)c->n_kv_heads * d, vec[1] = {D};
    struct {
        const char *suffix;
        slm_weight *dst;
        int64_t rows, cols;
    } spec[] = {
        {"self_attn.q_proj.weight", &L->wq, Hd, D}, {"self_attn.k_proj.weight", &L->wk, Kd, D},
        {"self_attn.v_proj.weight", &L->wv, Kd, D}, {"self_attn.o_proj.weight", &L->wo, D, Hd},
        {"mlp.gate_proj.weight", &L->w_gate, F, D}, {"mlp.up_proj.weight", &L->w_up, F, D},
        {"mlp.down_proj.weight", &L->w_down, D, F},
    };
    char name[160];
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
        snprintf(name, sizeof name, "model.layers.%d.%s", l, spec[i].suffix);
        SLM_TRY(slm_model_matrix(m, name, spec[i].rows, spec[i].cols, false, spec[i].dst, err));
    }
    snprintf(name, sizeof name, "model.layers.%d.input_layernorm.weight", l);
    SLM_TRY(slm_model_weight_f32(m, name, vec, 1, &L->attn_norm, err));
    snprintf(name, sizeof name, "model.layers.%d.post_attention_layernorm.weight", l);
    return slm_model_weight_f32(m, name, vec, 1, &L->ffn_norm, err);
}

static slm_status llama_load(slm_model *m, slm_error *err)
{
    slm_decoder_weights *w;
    SLM_TRY(slm_decoder_new(m, &w, err));
    SLM_TRY(slm_decoder_load_ends(m, w, "model.embed_tokens.weight", "model.norm.weight", err));
    for (int l = 0; l < m->cfg.n_layers; l++)
        SLM_TRY(load_layer(m, l, &w->layers[l], err));
    return SLM_OK;
}

const slm_arch slm_arch_llama = {
    .architecture = "LlamaForCausalLM",
    .model_type = "llama",
    .load = llama_load,
    .free_weights = slm_decoder_free,
    .forward = slm_decoder_forward,
};
