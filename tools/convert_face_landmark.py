"""Dev step: convert MediaPipe's face_landmark.tflite (FaceMesh, 468 points) to ONNX (NCHW, batch N).

Needs only `tflite` (flatbuffer reader), `onnx` and numpy. Handles exactly the ops in that model:
DEQUANTIZE (fp16 constants), CONV_2D, DEPTHWISE_CONV_2D, PRELU, ADD, MAX_POOL_2D, PAD.
Usage: python convert_face_landmark.py face_landmark.tflite face_landmarks.onnx
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

OPS = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith("_")}
NP = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.FLOAT16: np.float16, tflite.TensorType.INT32: np.int32}


def main(src: str, dst: str) -> None:
    buf = open(src, "rb").read()
    model = tflite.Model.GetRootAsModel(buf, 0)
    g = model.Subgraphs(0)
    const: dict[int, np.ndarray] = {}
    for i in range(g.TensorsLength()):
        t = g.Tensors(i)
        b = model.Buffers(t.Buffer())
        if b.DataLength():
            const[i] = np.frombuffer(b.DataAsNumpy().tobytes(), NP[t.Type()]).reshape(t.ShapeAsNumpy())
    name = {i: g.Tensors(i).Name().decode() for i in range(g.TensorsLength())}
    nodes, inits = [], []

    def init(arr: np.ndarray, nm: str) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), nm))
        return nm

    def act(opts_act: int, out: str) -> str:
        if opts_act == tflite.ActivationFunctionType.NONE:
            return out
        raise NotImplementedError(f"fused activation {opts_act}")

    def same_pads(in_hw, k, s):  # TF SAME: extra padding at bottom/right
        pads_b, pads_e = [], []
        for n, kk, ss in zip(in_hw, k, s, strict=False):
            out = -(-n // ss)
            tot = max((out - 1) * ss + kk - n, 0)
            pads_b.append(tot // 2)
            pads_e.append(tot - tot // 2)
        return pads_b + pads_e

    for i in range(g.OperatorsLength()):
        op = g.Operators(i)
        oc = model.OperatorCodes(op.OpcodeIndex())
        kind = OPS[max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())]
        ins = [j for j in op.InputsAsNumpy()]
        outs = list(op.OutputsAsNumpy())
        o = name[outs[0]]
        if kind == "DEQUANTIZE":
            const[outs[0]] = const[ins[0]].astype(np.float32)
            continue
        x = name[ins[0]]
        in_shape = list(g.Tensors(ins[0]).ShapeAsNumpy())  # NHWC
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w = const[ins[1]].astype(np.float32)  # conv: O,H,W,I ; dw: 1,H,W,C*M
            bias = const[ins[2]].astype(np.float32)
            if kind == "CONV_2D":
                opt = tflite.Conv2DOptions()
                opt.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
                wk = w.transpose(0, 3, 1, 2)
                group = 1
            else:
                opt = tflite.DepthwiseConv2DOptions()
                opt.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
                assert opt.DepthMultiplier() in (0, 1)
                wk = w.transpose(3, 0, 1, 2)
                group = w.shape[3]
            assert opt.DilationHFactor() in (0, 1) and opt.DilationWFactor() in (0, 1)
            k = list(wk.shape[2:])
            s = [opt.StrideH(), opt.StrideW()]
            pads = same_pads(in_shape[1:3], k, s) if opt.Padding() == tflite.Padding.SAME else [0, 0, 0, 0]
            nodes.append(
                helper.make_node(
                    "Conv",
                    [x, init(wk, o + "/W"), init(bias, o + "/B")],
                    [act(opt.FusedActivationFunction(), o)],
                    kernel_shape=k,
                    strides=s,
                    pads=pads,
                    group=group,
                )
            )
        elif kind == "PRELU":
            a = const[ins[1]].astype(np.float32)
            assert a.shape[:-1] == (1, 1), a.shape
            nodes.append(helper.make_node("PRelu", [x, init(a.reshape(-1, 1, 1), o + "/slope")], [o]))
        elif kind == "ADD":
            opt = tflite.AddOptions()
            opt.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
            nodes.append(helper.make_node("Add", [x, name[ins[1]]], [act(opt.FusedActivationFunction(), o)]))
        elif kind == "MAX_POOL_2D":
            opt = tflite.Pool2DOptions()
            opt.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
            k = [opt.FilterHeight(), opt.FilterWidth()]
            s = [opt.StrideH(), opt.StrideW()]
            pads = same_pads(in_shape[1:3], k, s) if opt.Padding() == tflite.Padding.SAME else [0, 0, 0, 0]
            nodes.append(
                helper.make_node(
                    "MaxPool", [x], [act(opt.FusedActivationFunction(), o)], kernel_shape=k, strides=s, pads=pads
                )
            )
        elif kind == "PAD":
            p = const[ins[1]].astype(np.int64)  # NHWC [4,2]
            nchw = p[[0, 3, 1, 2]]
            pads = np.concatenate([nchw[:, 0], nchw[:, 1]])
            nodes.append(helper.make_node("Pad", [x, init(pads, o + "/pads")], [o], mode="constant"))
        else:
            raise NotImplementedError(kind)

    gin = g.Tensors(g.Inputs(0))
    _, h, w, c = gin.ShapeAsNumpy()
    out_land, out_flag = name[g.Outputs(0)], name[g.Outputs(1)]
    nodes.append(helper.make_node("Flatten", [out_land], ["landmarks"], axis=1))
    nodes.append(helper.make_node("Flatten", [out_flag], ["face_flag_logit"], axis=1))
    graph = helper.make_graph(
        nodes,
        "face_landmark",
        [helper.make_tensor_value_info(name[g.Inputs(0)], TensorProto.FLOAT, ["N", int(c), int(h), int(w)])],
        [
            helper.make_tensor_value_info("landmarks", TensorProto.FLOAT, ["N", 1404]),
            helper.make_tensor_value_info("face_flag_logit", TensorProto.FLOAT, ["N", 1]),
        ],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="classmood-tflite-convert")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
