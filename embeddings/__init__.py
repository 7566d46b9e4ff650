"""The embed stage: embed tiles with CLIP and DINOv2 image encoders.

``embeddings.registry`` maps encoder ids to loaders (``create_encoder``,
``list_encoders``); ``embeddings.stage`` embeds a workspace's tiles
incrementally into ``embeddings/<encoder>/part-*.parquet``.
"""
