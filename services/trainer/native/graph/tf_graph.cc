// TensorFlow's C graph API for Node (N-API), for services/trainer/src/graph/: a training step built
// once as one graph, with its gradients from TensorFlow's own C++ gradient registry
// (TF_AddGradients), then run as one TF_SessionRun per step instead of ~80 eager ops
// (README.md, "Native TensorFlow": graph execution).
//
//   newGraph() -> id
//   addOp(id, type, name, inputs, attrs) -> name   inputs: "op" | "op:i" | list of those
//        attrs: [name, kind, value]: kind type | int | float | bool | shape (int[] | null) |
//               f32 / i32 ([shape[], data[]]: a tensor attribute, e.g. Const's value)
//   addGradients(id, ys[], xs[], prefix, dys?[]) -> (string | null)[]   null: no path to x
//   prepare(id, feeds[], feedShapes[][], feedTypes[], fetches[], intraThreads, interThreads) -> runner
//   run(id, runner, inputs: TypedArray[], outputs: TypedArray[])   copies in and out, checked
//   start(id, runner, inputs: TypedArray[]) -> job   copies in, then runs on a thread of its own
//   finish(job, outputs: TypedArray[])   waits for that run, copies out (once per job)
//   dispose(id)   waits for the graph's unfinished jobs first
#include <node_api.h>
#include <tensorflow/c/c_api.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Runner {
  std::vector<TF_Output> feeds, fetches;
  std::vector<TF_DataType> feedTypes;
  std::vector<std::vector<int64_t>> feedShapes;
  std::vector<size_t> feedBytes;
};

struct Status {
  TF_Status *s = TF_NewStatus();
  ~Status() { TF_DeleteStatus(s); }
  bool ok() const { return TF_GetCode(s) == TF_OK; }
};

// One run's tensors: the inputs, copied in; the outputs TensorFlow made.
struct Tensors {
  std::vector<TF_Tensor *> in, out;
  ~Tensors() {
    for (auto t : in) if (t) TF_DeleteTensor(t);
    for (auto t : out) if (t) TF_DeleteTensor(t);
  }
};

// A run started on a thread of its own (start); finish() joins it. The thread touches only the
// session and these tensors, never JavaScript memory.
struct Job {
  int32_t graph, runner;
  Tensors tensors;
  Status status;
  std::thread thread;
};

struct Graph {
  TF_Graph *graph = TF_NewGraph();
  TF_Session *session = nullptr;
  std::vector<Runner> runners;
};

std::vector<Graph *> graphs;
std::vector<Job *> jobs;  // by id; null once finished (or its graph disposed)

napi_value fail(napi_env env, const std::string &message) {
  napi_throw_error(env, nullptr, message.c_str());
  return nullptr;
}

std::string str(napi_env env, napi_value v) {
  size_t n = 0;
  napi_get_value_string_utf8(env, v, nullptr, 0, &n);
  std::string s(n, '\0');
  napi_get_value_string_utf8(env, v, &s[0], n + 1, &n);
  return s;
}
int32_t i32(napi_env env, napi_value v) {
  int32_t x = 0;
  napi_get_value_int32(env, v, &x);
  return x;
}
double f64(napi_env env, napi_value v) {
  double x = 0;
  napi_get_value_double(env, v, &x);
  return x;
}
uint32_t length(napi_env env, napi_value a) {
  uint32_t n = 0;
  napi_get_array_length(env, a, &n);
  return n;
}
napi_value at(napi_env env, napi_value a, uint32_t i) {
  napi_value v;
  napi_get_element(env, a, i, &v);
  return v;
}
std::vector<napi_value> argv(napi_env env, napi_callback_info info, size_t n) {
  std::vector<napi_value> a(n);
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, a.data(), nullptr, nullptr);
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  for (size_t i = argc; i < n; i++) a[i] = undefined;
  return a;
}
Graph *graphOf(napi_env env, napi_value v) {
  int32_t id = i32(env, v);
  if (id < 0 || id >= (int32_t)graphs.size() || !graphs[id]) {
    fail(env, "tf_graph: no graph " + std::to_string(id) + " (disposed?)");
    return nullptr;
  }
  return graphs[id];
}
// "name" or "name:index" -> an output of an operation in the graph
bool outputOf(napi_env env, Graph *g, const std::string &spec, TF_Output *out) {
  auto colon = spec.rfind(':');
  std::string name = colon == std::string::npos ? spec : spec.substr(0, colon);
  int index = colon == std::string::npos ? 0 : std::stoi(spec.substr(colon + 1));
  TF_Operation *op = TF_GraphOperationByName(g->graph, name.c_str());
  if (!op) {
    fail(env, "tf_graph: no operation " + name + " in the graph");
    return false;
  }
  if (index < 0 || index >= TF_OperationNumOutputs(op)) {
    fail(env, "tf_graph: " + name + " has no output " + std::to_string(index));
    return false;
  }
  *out = {op, index};
  return true;
}
std::string nameOf(TF_Output o) { return std::string(TF_OperationName(o.oper)) + ":" + std::to_string(o.index); }
std::vector<int64_t> dimsOf(napi_env env, napi_value shape) {
  std::vector<int64_t> dims(length(env, shape));
  for (uint32_t j = 0; j < dims.size(); j++) dims[j] = i32(env, at(env, shape, j));
  return dims;
}

napi_value NewGraph(napi_env env, napi_callback_info) {
  graphs.push_back(new Graph());
  napi_value r;
  napi_create_int32(env, (int32_t)graphs.size() - 1, &r);
  return r;
}

napi_value AddOp(napi_env env, napi_callback_info info) {
  auto a = argv(env, info, 5);
  Graph *g = graphOf(env, a[0]);
  if (!g) return nullptr;
  std::string type = str(env, a[1]), name = str(env, a[2]);
  TF_OperationDescription *d = TF_NewOperation(g->graph, type.c_str(), name.c_str());
  // On an error below the description is abandoned unfinished: TF frees it with the graph.
  for (uint32_t i = 0, n = length(env, a[3]); i < n; i++) {
    napi_value in = at(env, a[3], i);
    bool list = false;
    napi_is_array(env, in, &list);
    if (list) {
      std::vector<TF_Output> outs(length(env, in));
      for (uint32_t j = 0; j < outs.size(); j++)
        if (!outputOf(env, g, str(env, at(env, in, j)), &outs[j])) return nullptr;
      TF_AddInputList(d, outs.data(), (int)outs.size());
    } else {
      TF_Output o;
      if (!outputOf(env, g, str(env, in), &o)) return nullptr;
      TF_AddInput(d, o);
    }
  }
  Status s;
  for (uint32_t i = 0, n = length(env, a[4]); i < n; i++) {
    napi_value e = at(env, a[4], i);
    std::string attr = str(env, at(env, e, 0)), kind = str(env, at(env, e, 1));
    napi_value v = at(env, e, 2);
    if (kind == "type") {
      TF_SetAttrType(d, attr.c_str(), (TF_DataType)i32(env, v));
    } else if (kind == "int") {
      TF_SetAttrInt(d, attr.c_str(), (int64_t)f64(env, v));
    } else if (kind == "float") {
      TF_SetAttrFloat(d, attr.c_str(), (float)f64(env, v));
    } else if (kind == "bool") {
      bool b = false;
      napi_get_value_bool(env, v, &b);
      TF_SetAttrBool(d, attr.c_str(), b);
    } else if (kind == "shape") {
      napi_valuetype t;
      napi_typeof(env, v, &t);
      if (t == napi_null) {
        TF_SetAttrShape(d, attr.c_str(), nullptr, -1);
      } else {
        auto dims = dimsOf(env, v);
        TF_SetAttrShape(d, attr.c_str(), dims.data(), (int)dims.size());
      }
    } else if (kind == "f32" || kind == "i32") {
      auto dims = dimsOf(env, at(env, v, 0));
      napi_value data = at(env, v, 1);
      uint32_t count = length(env, data);
      size_t expected = 1;
      for (auto dim : dims) expected *= (size_t)dim;
      if (expected != count) return fail(env, "tf_graph: " + name + "." + attr + ": " + std::to_string(count) + " values for a shape of " + std::to_string(expected));
      TF_Tensor *t = TF_AllocateTensor(kind == "f32" ? TF_FLOAT : TF_INT32, dims.data(), (int)dims.size(), 4 * (size_t)count);
      for (uint32_t j = 0; j < count; j++) {
        if (kind == "f32") ((float *)TF_TensorData(t))[j] = (float)f64(env, at(env, data, j));
        else ((int32_t *)TF_TensorData(t))[j] = i32(env, at(env, data, j));
      }
      TF_SetAttrTensor(d, attr.c_str(), t, s.s);
      TF_DeleteTensor(t);
      if (!s.ok()) return fail(env, "tf_graph: " + name + "." + attr + ": " + TF_Message(s.s));
    } else {
      return fail(env, "tf_graph: unknown attribute kind " + kind);
    }
  }
  TF_Operation *op = TF_FinishOperation(d, s.s);
  if (!s.ok()) return fail(env, "tf_graph: " + type + " " + name + ": " + TF_Message(s.s));
  napi_value r;
  napi_create_string_utf8(env, TF_OperationName(op), NAPI_AUTO_LENGTH, &r);
  return r;
}

napi_value AddGradients(napi_env env, napi_callback_info info) {
  auto a = argv(env, info, 5);
  Graph *g = graphOf(env, a[0]);
  if (!g) return nullptr;
  std::vector<TF_Output> ys(length(env, a[1])), xs(length(env, a[2])), dxs(length(env, a[2]));
  for (uint32_t i = 0; i < ys.size(); i++)
    if (!outputOf(env, g, str(env, at(env, a[1], i)), &ys[i])) return nullptr;
  for (uint32_t i = 0; i < xs.size(); i++)
    if (!outputOf(env, g, str(env, at(env, a[2], i)), &xs[i])) return nullptr;
  std::string prefix = str(env, a[3]);
  std::vector<TF_Output> dys;
  bool given = false;
  napi_is_array(env, a[4], &given);
  if (given) {
    dys.resize(length(env, a[4]));
    if (dys.size() != ys.size()) return fail(env, "tf_graph: addGradients needs one dy per y");
    for (uint32_t i = 0; i < dys.size(); i++)
      if (!outputOf(env, g, str(env, at(env, a[4], i)), &dys[i])) return nullptr;
  }
  Status s;
  TF_AddGradientsWithPrefix(g->graph, prefix.c_str(), ys.data(), (int)ys.size(), xs.data(), (int)xs.size(), dys.empty() ? nullptr : dys.data(), s.s, dxs.data());
  if (!s.ok()) return fail(env, std::string("tf_graph: TF_AddGradients: ") + TF_Message(s.s));
  napi_value r;
  napi_create_array_with_length(env, dxs.size(), &r);
  for (uint32_t i = 0; i < dxs.size(); i++) {
    // No operation: x does not reach y (its gradient is zero), or TF has no gradient for the path.
    napi_value v;
    if (dxs[i].oper) napi_create_string_utf8(env, nameOf(dxs[i]).c_str(), NAPI_AUTO_LENGTH, &v);
    else napi_get_null(env, &v);
    napi_set_element(env, r, i, v);
  }
  return r;
}

// ConfigProto with intra_op_parallelism_threads (field 2) and inter_op_parallelism_threads (5),
// each as a varint (0: TensorFlow's default, the cores; a negative inter_op: every op on the
// caller's thread, as protobuf encodes a negative int32, in ten bytes).
std::vector<unsigned char> configProto(int intra, int inter) {
  std::vector<unsigned char> out;
  auto field = [&](unsigned char tag, int value) {
    if (value == 0) return;
    out.push_back(tag);
    uint64_t v = (uint64_t)(int64_t)value;
    while (v >= 0x80) {
      out.push_back((unsigned char)(v | 0x80));
      v >>= 7;
    }
    out.push_back((unsigned char)v);
  };
  field(0x10, intra);
  field(0x28, inter);
  return out;
}

napi_value Prepare(napi_env env, napi_callback_info info) {
  auto a = argv(env, info, 7);
  Graph *g = graphOf(env, a[0]);
  if (!g) return nullptr;
  if (!g->session) {
    TF_SessionOptions *o = TF_NewSessionOptions();
    Status s;
    auto cfg = configProto(i32(env, a[5]), i32(env, a[6]));
    if (!cfg.empty()) TF_SetConfig(o, cfg.data(), cfg.size(), s.s);
    if (s.ok()) g->session = TF_NewSession(g->graph, o, s.s);
    TF_DeleteSessionOptions(o);
    if (!s.ok()) return fail(env, std::string("tf_graph: a session: ") + TF_Message(s.s));
  }
  Runner r;
  for (uint32_t i = 0, n = length(env, a[1]); i < n; i++) {
    TF_Output o;
    if (!outputOf(env, g, str(env, at(env, a[1], i)), &o)) return nullptr;
    r.feeds.push_back(o);
    auto dims = dimsOf(env, at(env, a[2], i));
    size_t count = 1;
    for (auto dim : dims) count *= (size_t)dim;
    r.feedShapes.push_back(dims);
    r.feedTypes.push_back((TF_DataType)i32(env, at(env, a[3], i)));
    r.feedBytes.push_back(count * TF_DataTypeSize(r.feedTypes.back()));
  }
  for (uint32_t i = 0, n = length(env, a[4]); i < n; i++) {
    TF_Output o;
    if (!outputOf(env, g, str(env, at(env, a[4], i)), &o)) return nullptr;
    r.fetches.push_back(o);
  }
  g->runners.push_back(r);
  napi_value v;
  napi_create_int32(env, (int32_t)g->runners.size() - 1, &v);
  return v;
}

bool bytesOf(napi_env env, napi_value array, void **data, size_t *bytes) {
  napi_typedarray_type type;
  size_t n, offset;
  napi_value buffer;
  if (napi_get_typedarray_info(env, array, &type, &n, data, &buffer, &offset) != napi_ok) {
    fail(env, "tf_graph: run takes typed arrays");
    return false;
  }
  size_t width;
  switch (type) {
    case napi_float32_array:
    case napi_int32_array:
      width = 4;
      break;
    case napi_float64_array:
      width = 8;
      break;
    default:
      fail(env, "tf_graph: run takes Float32Array, Float64Array or Int32Array");
      return false;
  }
  *bytes = n * width;
  return true;
}

// The runner `id` of graph g, or null (an exception pending).
Runner *runnerOf(napi_env env, Graph *g, napi_value v) {
  int32_t id = i32(env, v);
  if (!g->session || id < 0 || id >= (int32_t)g->runners.size()) {
    fail(env, "tf_graph: no such runner");
    return nullptr;
  }
  return &g->runners[id];
}

// Copies the typed arrays of `inputs` into new tensors, each checked against its feed.
bool copyIn(napi_env env, Runner &r, napi_value inputs, Tensors &t) {
  if (length(env, inputs) != r.feeds.size()) return fail(env, "tf_graph: a run needs one array per feed"), false;
  t.in.assign(r.feeds.size(), nullptr);
  t.out.assign(r.fetches.size(), nullptr);
  for (size_t i = 0; i < t.in.size(); i++) {
    void *data;
    size_t bytes;
    if (!bytesOf(env, at(env, inputs, (uint32_t)i), &data, &bytes)) return false;
    if (bytes != r.feedBytes[i]) {
      fail(env, "tf_graph: feed " + nameOf(r.feeds[i]) + " takes " + std::to_string(r.feedBytes[i]) + " bytes, got " + std::to_string(bytes));
      return false;
    }
    t.in[i] = TF_AllocateTensor(r.feedTypes[i], r.feedShapes[i].data(), (int)r.feedShapes[i].size(), bytes);
    memcpy(TF_TensorData(t.in[i]), data, bytes);
  }
  return true;
}

void sessionRun(Graph *g, Runner &r, Tensors &t, Status &s) {
  TF_SessionRun(g->session, nullptr, r.feeds.data(), t.in.data(), (int)t.in.size(), r.fetches.data(), t.out.data(), (int)t.out.size(), nullptr, 0, nullptr, s.s);
}

// After a run: its status, then every fetch copied into its typed array, sizes checked.
bool copyOut(napi_env env, Runner &r, Tensors &t, Status &s, napi_value outputs) {
  if (!s.ok()) return fail(env, std::string("tf_graph: TF_SessionRun: ") + TF_Message(s.s)), false;
  if (length(env, outputs) != r.fetches.size()) return fail(env, "tf_graph: a run needs one array per fetch"), false;
  for (size_t i = 0; i < t.out.size(); i++) {
    void *data;
    size_t bytes;
    if (!bytesOf(env, at(env, outputs, (uint32_t)i), &data, &bytes)) return false;
    size_t got = TF_TensorByteSize(t.out[i]);
    if (got != bytes) {
      fail(env, "tf_graph: fetch " + nameOf(r.fetches[i]) + " has " + std::to_string(got) + " bytes, its array " + std::to_string(bytes));
      return false;
    }
    memcpy(data, TF_TensorData(t.out[i]), bytes);
  }
  return true;
}

// The graph and runner a run names (arguments 0 and 1), or false (an exception pending).
bool graphAndRunner(napi_env env, const std::vector<napi_value> &a, Graph **g, Runner **r) {
  *g = graphOf(env, a[0]);
  *r = *g ? runnerOf(env, *g, a[1]) : nullptr;
  return *r != nullptr;
}

napi_value Run(napi_env env, napi_callback_info info) {
  auto a = argv(env, info, 4);
  Graph *g;
  Runner *r;
  if (!graphAndRunner(env, a, &g, &r)) return nullptr;
  if (length(env, a[3]) != r->fetches.size()) return fail(env, "tf_graph: a run needs one array per fetch");
  Tensors t;
  if (!copyIn(env, *r, a[2], t)) return nullptr;
  Status s;
  sessionRun(g, *r, t, s);
  copyOut(env, *r, t, s, a[3]);
  return nullptr;
}

void join(Job *j) {
  if (j->thread.joinable()) j->thread.join();
}

napi_value Start(napi_env env, napi_callback_info info) {
  auto a = argv(env, info, 3);
  Graph *g;
  Runner *r;
  if (!graphAndRunner(env, a, &g, &r)) return nullptr;
  auto *j = new Job();
  j->graph = i32(env, a[0]);
  j->runner = i32(env, a[1]);
  if (!copyIn(env, *r, a[2], j->tensors)) return delete j, nullptr;
  // Runners live in a vector that prepare() may grow: the thread takes a copy of this one.
  j->thread = std::thread([g, r = *r, j]() mutable { sessionRun(g, r, j->tensors, j->status); });
  jobs.push_back(j);
  napi_value v;
  napi_create_int32(env, (int32_t)jobs.size() - 1, &v);
  return v;
}

napi_value Finish(napi_env env, napi_callback_info info) {
  auto a = argv(env, info, 2);
  int32_t id = i32(env, a[0]);
  if (id < 0 || id >= (int32_t)jobs.size() || !jobs[id]) return fail(env, "tf_graph: no job " + std::to_string(id) + " (finished already, or its graph disposed)");
  Job *j = jobs[id];
  jobs[id] = nullptr;
  join(j);
  Graph *g = j->graph < (int32_t)graphs.size() ? graphs[j->graph] : nullptr;
  if (g) copyOut(env, g->runners[j->runner], j->tensors, j->status, a[1]);
  else fail(env, "tf_graph: the job's graph is gone");
  delete j;
  return nullptr;
}

napi_value Dispose(napi_env env, napi_callback_info info) {
  auto a = argv(env, info, 1);
  Graph *g = graphOf(env, a[0]);
  if (!g) return nullptr;
  int32_t id = i32(env, a[0]);
  for (auto &j : jobs) {
    if (j && j->graph == id) {
      join(j);
      delete j;
      j = nullptr;
    }
  }
  if (g->session) {
    Status s;
    TF_CloseSession(g->session, s.s);
    TF_DeleteSession(g->session, s.s);
  }
  TF_DeleteGraph(g->graph);
  graphs[i32(env, a[0])] = nullptr;
  delete g;
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor p[] = {
      {"newGraph", 0, NewGraph, 0, 0, 0, napi_default, 0},
      {"addOp", 0, AddOp, 0, 0, 0, napi_default, 0},
      {"addGradients", 0, AddGradients, 0, 0, 0, napi_default, 0},
      {"prepare", 0, Prepare, 0, 0, 0, napi_default, 0},
      {"run", 0, Run, 0, 0, 0, napi_default, 0},
      {"start", 0, Start, 0, 0, 0, napi_default, 0},
      {"finish", 0, Finish, 0, 0, 0, napi_default, 0},
      {"dispose", 0, Dispose, 0, 0, 0, napi_default, 0},
  };
  napi_define_properties(env, exports, sizeof(p) / sizeof(p[0]), p);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
