"""How the ClassMood emotion CNN is trained (PyTorch), evaluated and exported to ONNX."""
