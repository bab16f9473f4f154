// The `<image>` token of a LLaVA composed from a language model that never saw one. LLaVA's
// training code (and the llava-hf conversion script, transformers
// src/transformers/models/llava/convert_llava_weights_to_hf.py) adds it to the tokenizer as a special
// added token and grows the input embeddings (and an untied lm_head) by one row, initialised from
// the old rows' mean (src/transformers/modeling_utils.py, _init_added_embeddings_weights_with_mean);
// the helpers that do so (findTokenId, withAddedSpecialToken, appendMeanRows) are in @mmft/core/hf.
export const IMAGE_TOKEN = '<image>';
