# ViT-tiny (192 wide, 12 layers, 3 heads) with 4x4 patches for 32x32
# images (8x8 tokens), in timm/DINO's layout (qkv and patch biases), its
# last layer's patch tokens after the final norm as the output.
vit_tiny_p4 = dict(
    type='VisionTransformer',
    img_size=32,
    patch_size=4,
    embed_dims=192,
    num_layers=12,
    num_heads=3,
    mlp_ratio=4,
    qkv_bias=True,
    patch_bias=True,
    drop_path_rate=0.1,
    with_cls_token=True,
    output_cls_token=False,
    final_norm=True,
    out_indices=-1,
    interpolate_mode='bicubic')
