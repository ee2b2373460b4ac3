//! The backward pass: a topological walk from the root, accumulating gradients per node and
//! into leaves' `.grad`.

use super::{NoGradGuard, Node};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::collections::HashMap;
use std::sync::Arc;

/// Back-propagates from `root`. `grad` defaults to 1 for a one-element root (torch requires
/// an explicit gradient for other roots). Without `retain_graph` the graph's saved values are
/// freed, and a second backward through it fails.
pub fn backward(root: &Tensor, grad: Option<&Tensor>, retain_graph: bool) -> Result<()> {
    if !root.requires_grad_flag() {
        return Err(Error::Runtime(
            "backward: element 0 of tensors does not require grad and does not have a grad_fn".into(),
        ));
    }
    let seed = match grad {
        Some(g) => {
            if g.shape() != root.shape() {
                return Err(Error::Shape(format!(
                    "backward: gradient has shape {:?} but the tensor has shape {:?}",
                    g.shape(),
                    root.shape()
                )));
            }
            g.detach()
        }
        None => {
            if root.numel() != 1 {
                return Err(Error::Runtime(format!(
                    "backward: grad can be implicitly created only for scalar outputs, got shape {:?}; pass a gradient",
                    root.shape()
                )));
            }
            Tensor::full_on(root.shape(), 1.0, root.device())?
        }
    };
    let _ng = NoGradGuard::new();
    let Some(root_node) = root.grad_fn().cloned() else {
        return root.accumulate_grad(seed);
    };

    let order = topological_order(&root_node);
    let mut grads: HashMap<usize, Tensor> = HashMap::new();
    grads.insert(node_key(&root_node), seed);

    for node in order {
        let Some(g) = grads.remove(&node_key(&node)) else { continue };
        let (inputs, rule) = node.take_or_clone(retain_graph)?;
        let in_grads = match &rule {
            Some(f) => f(&g)?,
            None => node.call_retained(&g)?,
        };
        drop(rule);
        for (input, ig) in inputs.iter().zip(in_grads) {
            let Some(ig) = ig else { continue };
            if !input.requires_grad_flag() {
                continue;
            }
            if ig.shape() != input.shape() {
                return Err(Error::Runtime(format!(
                    "backward: internal error: {} produced a gradient of shape {:?} for an input of shape {:?}",
                    node.name,
                    ig.shape(),
                    input.shape()
                )));
            }
            match input.grad_fn() {
                None => input.accumulate_grad(ig)?,
                Some(n) => {
                    let key = node_key(n);
                    let acc = match grads.remove(&key) {
                        Some(prev) => prev.add(&ig)?,
                        None => ig,
                    };
                    grads.insert(key, acc);
                }
            }
        }
    }
    Ok(())
}

fn node_key(n: &Arc<Node>) -> usize {
    Arc::as_ptr(n) as usize
}

/// Nodes in an order where each node comes before every node it depends on (iterative DFS,
/// so deep graphs — a 30-layer net's hundreds of ops — do not overflow the stack).
fn topological_order(root: &Arc<Node>) -> Vec<Arc<Node>> {
    let mut post: Vec<Arc<Node>> = Vec::new();
    let mut visited: HashMap<usize, ()> = HashMap::new();
    let mut stack: Vec<(Arc<Node>, bool)> = vec![(root.clone(), false)];
    while let Some((node, expanded)) = stack.pop() {
        if expanded {
            post.push(node);
            continue;
        }
        if visited.insert(node_key(&node), ()).is_some() {
            continue;
        }
        stack.push((node.clone(), true));
        for input in node.inputs() {
            if let Some(n) = input.grad_fn() {
                if !visited.contains_key(&node_key(n)) {
                    stack.push((n.clone(), false));
                }
            }
        }
    }
    post.reverse();
    post
}
