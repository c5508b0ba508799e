"""MER-auGCN: micro-expression recognition with AU attention, AU detectors and an AU graph GCN.

Zhou, Mao, Dong, "MER-auGCN: Micro-expression recognition based on AU graph convolutional
network", Sec. III (no public code exists; every size the paper leaves open is a field):

* backbone: Dual-Inception on the (B, 28, 28, 2) onset->apex flow -> ``z`` (1024)
  (:mod:`mejax.models.dual_inception`; ``backbone="resnet18"``: the two-path ResNet ablation
  of Table III on 112^2 flow);
* AU attention, one Dense per AU node k: ``z_k* = sigmoid(Dense_k(z)) * z`` (1024 -> 1024;
  ``attention="softmax"``: the SoftmaxAtt ablation of Table IV, a softmax over the 1024
  features instead of the sigmoid);
* AU detectors, one MLP per node on ``z_k*``: 1024 -> ``detector_features`` -> ReLU -> 1 logit
  (``au_logits``; the paper ends them in a sigmoid unit, which the detection loss applies, and
  does not give the hidden width: 64 is a choice);
* GCN on the node features ``Z0 = (z_1*, ..., z_K*)`` (B, K, 1024): two layers
  ``Z^{l+1} = ReLU(G Z^l W^l)``, 1024 -> d1 -> 64 (``gcn_features``; d1 = 256 is a choice),
  ``W^l`` shared by the nodes, no bias; ``G`` is a constant (not a parameter): the binary AU
  adjacency with self-loops of :mod:`mejax.au_graph`, unnormalised as in the paper
  (``normalize_graph=True``: Kipf & Welling's ``D^-1/2 (A + I) D^-1/2``);
* fusion: the relation feature ``z_r = sum_k Z^2_k`` (64) and the AU feature
  ``z_o' = Dense(sum_k z_k*)`` (1024 -> 64, linear: the paper names no activation);
  ``fusion="sum"``: ``z_o' + z_r`` (the paper's), ``"concat"``: ``[z_o', z_r]`` (ConFeat,
  Table III) -> Dense -> ``num_outputs`` logits (the softmax is the loss's).

Ablations of Tables III-V as fields: ``features="au"`` (AUFeat: ``z_o'`` only, no GCN) or
``"relation"`` (RelFeat: ``z_r`` only); ``au_branch=False`` ("Dual-Inception" / "Resnet18"
rows: backbone -> Dense -> logits, no attention, detectors or GCN, no ``au_logits``);
``graph="dense"`` (DenselyG) and ``graph="original"`` (OriginalG).

Nodes: ``aus=()`` (the default) means the nodes of ``graph`` itself, in ascending AU order:
the final graph's 12 (1, 2, 4, 5, 6, 7, 9, 10, 12, 15, 17, 25) for ``"final"`` and
``"dense"``, the original graph's 17 for ``"original"``. A non-empty ``aus`` sets the nodes
and their order (``au_logits[:, k]`` is AU ``aus[k]``), with the edges of ``graph`` among them
(e.g. Table VII's (1, 2, 4, 9, 12, 14, 17), where AU14 is isolated).

Initialisation (not given by the paper): Glorot-uniform kernels and zero biases for every head,
Keras' defaults as in the Dual-Inception reference code. Heads run in float32.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp

from mejax import au_graph
from mejax.models import dual_inception

ATTENTIONS = ("sigmoid", "softmax")
FUSIONS = ("sum", "concat")
FEATURES = ("both", "au", "relation")
KERNEL_INIT = nn.initializers.glorot_uniform()
# Glorot-uniform of each node's (Fin, Fout) slice of a (K, Fin, Fout) kernel.
NODE_KERNEL_INIT = nn.initializers.variance_scaling(
    1.0, "fan_avg", "uniform", in_axis=-2, out_axis=-1, batch_axis=(0,)
)


def graph_nodes(aus: Sequence[int], graph: str) -> tuple[int, ...]:
    """The model's AU nodes: ``aus`` if given, else the nodes of ``graph``."""
    return tuple(int(au) for au in aus) if len(aus) else au_graph.nodes(graph)


class NodeDense(nn.Module):
    """One Dense layer per node: (B, Fin) shared or (B, K, Fin) per node -> (B, K, features).

    The K layers are one (K, Fin, features) kernel and one (K, features) bias, applied as a
    batched matrix product (the same as K separate ``nn.Dense``, in one op).
    """

    num_nodes: int
    features: int

    @nn.compact
    def __call__(self, x):
        kernel = self.param(
            "kernel", NODE_KERNEL_INIT, (self.num_nodes, x.shape[-1], self.features)
        )
        bias = self.param("bias", nn.initializers.zeros, (self.num_nodes, self.features))
        if x.ndim == 2:
            return jnp.einsum("bf,kfo->bko", x, kernel) + bias
        return jnp.einsum("bkf,kfo->bko", x, kernel) + bias


class GraphConvolution(nn.Module):
    """``ReLU(G Z W)``: Z (B, K, Fin), constant G (K, K), W (Fin, features), no bias."""

    features: int

    @nn.compact
    def __call__(self, z, adjacency):
        h = nn.Dense(self.features, use_bias=False, kernel_init=KERNEL_INIT, name="dense")(z)
        return nn.relu(jnp.einsum("kj,bjd->bkd", adjacency, h))


class AUGCN(nn.Module):
    """MER-auGCN: flow -> backbone -> AU attention/detectors -> AU-graph GCN -> fused logits.

    Attributes:
      num_outputs: classes (5: the objective classes I-V).
      aus: AU numbers of the nodes, in node order; ``()``: the nodes of ``graph``.
      graph: :data:`mejax.au_graph.GRAPHS`: ``"final"`` (the paper's), ``"original"``
        (OriginalG) or ``"dense"`` (DenselyG).
      normalize_graph: Kipf & Welling's symmetric normalisation of ``G`` (the paper: none).
      backbone: :data:`mejax.models.dual_inception.BACKBONES`: ``"dual_inception"`` (28^2
        flow) or ``"resnet18"`` (the two-path ResNet ablation, 112^2 flow).
      attention: ``"sigmoid"`` (the paper's) or ``"softmax"`` (SoftmaxAtt) gates.
      fusion: ``"sum"`` (the paper's) or ``"concat"`` (ConFeat) of ``z_o'`` and ``z_r``; only
        with ``features="both"``.
      features: ``"both"`` (the paper's), ``"au"`` (AUFeat) or ``"relation"`` (RelFeat).
      au_branch: False: backbone -> Dense -> logits only (the backbone rows of Table III).
      detector_features: hidden width of each AU detector (not in the paper).
      gcn_features: output widths of the GCN layers (d1 = 256 is a choice; 64 the paper's).
      filters: Dual-Inception's channels per branch of its two Inception modules.
      backbone_features: width of ``z`` (1024).
      resnet_depth, resnet_width, resnet_max_pool: the ResNet paths of ``backbone="resnet18"``.
      dtype: computation dtype of the backbone (the heads run in float32).
      bn_momentum: BatchNorm running-average decay of the ResNet paths.
    """

    num_outputs: int
    aus: tuple[int, ...] = ()
    graph: str = "final"
    normalize_graph: bool = False
    backbone: str = "dual_inception"
    attention: str = "sigmoid"
    fusion: str = "sum"
    features: str = "both"
    au_branch: bool = True
    detector_features: int = 64
    gcn_features: tuple[int, ...] = (256, 64)
    filters: tuple[int, ...] = (6, 16)
    backbone_features: int = 1024
    resnet_depth: int = 18
    resnet_width: float = 1.0
    resnet_max_pool: bool = True
    dtype: jnp.dtype = jnp.float32
    bn_momentum: float = 0.9

    def nodes(self) -> tuple[int, ...]:
        """AU numbers of the nodes (the columns of ``au_logits``)."""
        return graph_nodes(self.aus, self.graph)

    def _check(self) -> None:
        for field, value, allowed in (
            ("graph", self.graph, au_graph.GRAPHS),
            ("backbone", self.backbone, dual_inception.BACKBONES),
            ("attention", self.attention, ATTENTIONS),
            ("fusion", self.fusion, FUSIONS),
            ("features", self.features, FEATURES),
        ):
            if value not in allowed:
                raise ValueError(f"{field} {value!r} not in {allowed}")
        if self.fusion == "concat" and self.features != "both":
            raise ValueError(f"fusion='concat' needs features='both', got {self.features!r}")
        if not self.gcn_features:
            raise ValueError("gcn_features needs at least one layer")

    @nn.compact
    def __call__(self, x, *, train: bool) -> dict:
        """Runs the network.

        Args:
          x: (B, H, W, 2) flow, channel 0 = u, channel 1 = v (28^2 for Dual-Inception).
          train: BatchNorm batch statistics of the ResNet paths (Dual-Inception has none).

        Returns:
          ``logits`` (B, num_outputs) and, with ``au_branch``, ``au_logits`` (B, K), column k
          the detector logit of AU ``nodes()[k]``. Sown into ``intermediates``: ``z``, with
          ``au_branch`` also ``attended`` (Z0, (B, K, 1024)), ``gcn1_out``, ``gcn2_out``, ... (with
          ``features`` using the relation), ``au_features`` (z_o') and ``relation_features``
          (z_r) where computed.
        """
        self._check()
        z = dual_inception.build_backbone(
            self.backbone,
            features=self.backbone_features,
            filters=tuple(self.filters),
            depth=self.resnet_depth,
            width=self.resnet_width,
            max_pool=self.resnet_max_pool,
            dtype=self.dtype,
            bn_momentum=self.bn_momentum,
        )(x, train=train)
        z = z.astype(jnp.float32)
        self.sow("intermediates", "z", z)
        classifier = nn.Dense(self.num_outputs, kernel_init=KERNEL_INIT, name="classifier")
        if not self.au_branch:
            return {"logits": classifier(z)}

        nodes = self.nodes()
        k = len(nodes)
        gates = NodeDense(k, z.shape[-1], name="attention")(z)  # (B, K, F)
        if self.attention == "sigmoid":
            gates = nn.sigmoid(gates)
        else:
            gates = nn.softmax(gates, axis=-1)
        attended = gates * z[:, None, :]
        self.sow("intermediates", "attended", attended)

        h = nn.relu(NodeDense(k, self.detector_features, name="detector_hidden")(attended))
        au_logits = NodeDense(k, 1, name="detector_out")(h)[..., 0]

        fused = []
        if self.features in ("both", "au"):
            au_features = nn.Dense(
                self.gcn_features[-1], kernel_init=KERNEL_INIT, name="au_projection"
            )(jnp.sum(attended, axis=1))
            self.sow("intermediates", "au_features", au_features)
            fused.append(au_features)
        if self.features in ("both", "relation"):
            adjacency = jnp.asarray(
                au_graph.adjacency(nodes, self.graph, normalize=self.normalize_graph)
            )
            h = attended
            for i, width in enumerate(self.gcn_features, 1):
                h = GraphConvolution(width, name=f"gcn{i}")(h, adjacency)
                self.sow("intermediates", f"gcn{i}_out", h)
            relation = jnp.sum(h, axis=1)
            self.sow("intermediates", "relation_features", relation)
            fused.append(relation)
        if len(fused) == 1:
            f = fused[0]
        elif self.fusion == "sum":
            f = fused[0] + fused[1]
        else:
            f = jnp.concatenate(fused, axis=-1)
        return {"logits": classifier(f), "au_logits": au_logits}
