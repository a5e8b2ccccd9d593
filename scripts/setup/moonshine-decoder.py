"""Makes Moonshine base-en's decoder fast, once, at install time (scripts/setup/moonshine.mjs).

moonshine-cpp ships the decoder in ONNX Runtime's ORT format with its weights stored as int8 and
turned back into floats by Cast/Mul/Add nodes on every run, that is for every token it emits. This
rebuilds the ONNX graph from the ORT file, lets ONNX Runtime fold those nodes into float weights,
quantizes the matrix products to int8 again (ONNX Runtime's int8 kernels), and saves the result in
ORT format for the runtime the agent's library links. Same model, same words; about a fifth of the
decoder's CPU (docs/decisions/offline-recognizer.md).

    python moonshine-decoder.py SOURCE.ort DEST.ort
"""

import os
import sys
import tempfile

import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.tools.ort_format_model.ort_flatbuffers_py.fbs import (
    AttributeType,
    DimensionValueType,
    InferenceSession,
    TensorTypeAndShape,
    TypeInfoValue,
)

AT = AttributeType.AttributeType


def text(value):
    return value.decode() if isinstance(value, bytes) else (value or "")


def tensor(t):
    proto = TensorProto()
    proto.name = text(t.Name())
    proto.data_type = t.DataType()
    proto.dims.extend(t.Dims(i) for i in range(t.DimsLength()))
    if t.StringDataLength():
        proto.string_data.extend(t.StringData(i) for i in range(t.StringDataLength()))
    elif t.RawDataLength():
        proto.raw_data = t.RawDataAsNumpy().tobytes()
    return proto


def value_info(arg):
    name = text(arg.Name())
    info = arg.Type()
    if info is None or info.ValueType() != TypeInfoValue.TypeInfoValue.tensor_type:
        return helper.make_empty_tensor_value_info(name)
    tensor_type = TensorTypeAndShape.TensorTypeAndShape()
    table = info.Value()
    tensor_type.Init(table.Bytes, table.Pos)
    shape = tensor_type.Shape()
    dims = None
    if shape is not None:
        dims = []
        for i in range(shape.DimLength()):
            dim = shape.Dim(i).Value()
            if dim is None:
                dims.append(None)
            elif dim.DimType() == DimensionValueType.DimensionValueType.VALUE:
                dims.append(dim.DimValue())
            else:
                dims.append(text(dim.DimParam()) or None)
    return helper.make_tensor_value_info(name, tensor_type.ElemType(), dims)


def attribute(a):
    proto = onnx.AttributeProto()
    proto.name = text(a.Name())
    kind = a.Type()
    proto.type = kind
    if kind == AT.FLOAT:
        proto.f = a.F()
    elif kind == AT.INT:
        proto.i = a.I()
    elif kind == AT.STRING:
        proto.s = a.S()
    elif kind == AT.TENSOR:
        proto.t.CopyFrom(tensor(a.T()))
    elif kind == AT.GRAPH:
        proto.g.CopyFrom(graph(a.G(), proto.name))
    elif kind == AT.FLOATS:
        proto.floats.extend(a.Floats(i) for i in range(a.FloatsLength()))
    elif kind == AT.INTS:
        proto.ints.extend(a.Ints(i) for i in range(a.IntsLength()))
    elif kind == AT.STRINGS:
        proto.strings.extend(a.Strings(i) for i in range(a.StringsLength()))
    elif kind == AT.TENSORS:
        proto.tensors.extend(tensor(a.Tensors(i)) for i in range(a.TensorsLength()))
    elif kind == AT.GRAPHS:
        proto.graphs.extend(graph(a.Graphs(i), proto.name) for i in range(a.GraphsLength()))
    else:
        raise ValueError(f"attribute {proto.name}: type {kind} is not handled")
    return proto


def graph(g, name):
    args = {text(g.NodeArgs(i).Name()): g.NodeArgs(i) for i in range(g.NodeArgsLength())}
    initializers = [tensor(g.Initializers(i)) for i in range(g.InitializersLength())]
    if g.SparseInitializersLength():
        raise ValueError("sparse initializers are not handled")
    nodes = []
    for i in range(g.NodesLength()):
        n = g.Nodes(i)
        node = helper.make_node(
            text(n.OpType()),
            [text(n.Inputs(j)) for j in range(n.InputsLength())],
            [text(n.Outputs(j)) for j in range(n.OutputsLength())],
            name=text(n.Name()) or f"node{n.Index()}",
            domain=text(n.Domain()),
        )
        node.attribute.extend(attribute(n.Attributes(j)) for j in range(n.AttributesLength()))
        nodes.append((n.Index(), node))
    constant = {t.name for t in initializers}
    inputs = [
        value_info(args[text(g.Inputs(i))])
        for i in range(g.InputsLength())
        if text(g.Inputs(i)) not in constant
    ]
    outputs = [value_info(args[text(g.Outputs(i))]) for i in range(g.OutputsLength())]
    ordered = [node for _, node in sorted(nodes, key=lambda pair: pair[0])]
    return helper.make_graph(ordered, name, inputs, outputs, initializer=initializers)


def ort_to_onnx(source, dest):
    with open(source, "rb") as f:
        model = InferenceSession.InferenceSession.GetRootAsInferenceSession(f.read(), 0).Model()
    opsets = [
        helper.make_opsetid(text(model.OpsetImport(i).Domain()), model.OpsetImport(i).Version())
        for i in range(model.OpsetImportLength())
    ]
    onnx.save(
        helper.make_model(graph(model.Graph(), "main"), opset_imports=opsets, ir_version=model.IrVersion()),
        dest,
    )


def type_casts(g):
    """The quantizer leaves the Casts it adds inside the decoder's If branches untyped: float."""
    typed = 0
    for node in g.node:
        if node.op_type == "Cast":
            to = [a for a in node.attribute if a.name == "to"]
            if not to:
                node.attribute.append(helper.make_attribute("to", TensorProto.FLOAT))
                typed += 1
            elif to[0].i == TensorProto.UNDEFINED:
                to[0].i = TensorProto.FLOAT
                typed += 1
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                typed += type_casts(a.g)
            for sub in a.graphs:
                typed += type_casts(sub)
    return typed


def optimized(source, dest, ort_format=False):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.intra_op_num_threads = 1
    options.optimized_model_filepath = dest
    if ort_format:
        options.add_session_config_entry("session.save_model_format", "ORT")
    ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def main(source, dest):
    with tempfile.TemporaryDirectory() as tmp:
        rebuilt, folded, quantized = (os.path.join(tmp, f) for f in ("a.onnx", "b.onnx", "c.onnx"))
        ort_to_onnx(source, rebuilt)
        optimized(rebuilt, folded)
        quantize_dynamic(
            folded,
            quantized,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            extra_options={"EnableSubgraph": True},
        )
        model = onnx.load(quantized)
        type_casts(model.graph)
        onnx.save(model, quantized)
        optimized(quantized, dest, ort_format=True)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
