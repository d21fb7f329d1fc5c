# The graph addon: TensorFlow's C graph API for Node (tf_graph.cc), built by `pnpm setup:native`
# (services/trainer/scripts/setup-native.ts) against the libraries and headers it put in
# tfjs-node's deps/. TFJS_NODE_DIR: that tfjs-node package's directory.
{
  'variables': {
    'tfjs_node%': '<!(node -p "process.env.TFJS_NODE_DIR")',
  },
  'targets': [{
    'target_name': 'tf_graph',
    'sources': ['tf_graph.cc'],
    'include_dirs': ['<(tfjs_node)/deps/include'],
    'cflags_cc': ['-std=c++17', '-O2'],
    'cflags_cc!': ['-fno-exceptions'],
    'libraries': ['-L<(tfjs_node)/deps/lib', '-Wl,-rpath,<(tfjs_node)/deps/lib', '-ltensorflow', '-ltensorflow_framework'],
  }],
}
