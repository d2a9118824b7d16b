"""Shared helpers of the individual-model tests: the C model built with the PyTorch reference's
weights, and the reference's batches in the C grid format."""

from __future__ import annotations

import numpy as np

from socialrm import _core


def data_tuple(data) -> tuple:
    """The 9-array tuple the C binding takes, from a PreferenceData or the reference's CSRData."""
    def get(name):
        return getattr(data, name, None)
    return (
        np.asarray(data.rater_ptr, np.int64), np.asarray(data.entry_prompt, np.int32),
        np.asarray(data.entry_ptr, np.int64), np.asarray(data.rankings, np.int32),
        np.asarray(data.completion_prompt, np.int32), get("prompt_tokens"), get("completion_tokens"),
        get("prompt_features"), get("completion_features"),
    )


def c_config(cfg, seed: int = 0) -> dict:
    """C config dict from the reference's IndividualConfig."""
    out = {k: int(getattr(cfg, k)) for k in (
        "d_model", "d_latent", "n_heads", "ff_mult", "n_encoder_layers", "n_decoder_layers", "n_pref_layers",
        "n_latent_layers", "latent_hidden", "reward_hidden", "max_prompt_len", "max_completion_len", "max_prompts",
        "max_completions", "prompt_feature_dim", "completion_feature_dim")}
    out.update(tokens=int(cfg.mode == "tokens"), vocab=int(cfg.vocab_size), scale_init=float(cfg.scale_init),
               vanilla=int(cfg.vanilla), seed=seed)
    return out


def load_torch_weights(model_c, model_t) -> None:
    """Copy every torch parameter into the C store by name (same layouts; `scale` is 0-d in torch)."""
    names = {n for n, _shape, _off in model_c.param_info()}
    sd = {k: v.detach().numpy() for k, v in model_t.state_dict().items()}
    assert names == set(sd), (names ^ set(sd))
    for k, v in sd.items():
        view = model_c.param(k)
        view[...] = v.reshape(view.shape)


def grid_batch(batch) -> tuple:
    """Reference Batch (local ids + masks) -> C grid (global ids, -1 where absent)."""
    pid, cid = np.asarray(batch.prompt_ids), np.asarray(batch.completion_ids)
    ep = np.where(batch.entry_mask, pid[batch.entry_prompt], -1).astype(np.int32)
    pv = (batch.entry_mask & batch.prompt_visible).astype(np.uint8)
    enc = np.where(batch.enc_mask & (batch.entry_mask & batch.prompt_visible)[..., None],
                   cid[batch.enc_completion], -1).astype(np.int32)
    out = np.where(batch.out_mask, cid[batch.out_completion], -1).astype(np.int32)
    return ep, pv, enc, out


def new_c_model(config: dict):
    return _core.IRM(config)
