"""gankit.latent: interpolation and DCGAN-style vector arithmetic, checked against closed forms."""
import math

import pytest
import torch

from gankit.latent import (attribute_direction, concept_mean, interpolate, lerp, slerp,
                           vector_arithmetic)

E1, E2 = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])


def test_lerp_midpoint_and_shapes():
    z0, z1 = torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0])
    assert torch.allclose(lerp(z0, z1, 0.5), torch.tensor([2.0, 0.0]))
    assert lerp(z0, z1, torch.linspace(0, 1, 5)).shape == (5, 2)


def test_slerp_orthogonal_unit_vectors_follow_the_circle():
    t = torch.tensor([0.0, 1 / 3, 0.5, 1.0])
    want = torch.stack([torch.cos(t * math.pi / 2), torch.sin(t * math.pi / 2), 0 * t], 1)
    assert torch.allclose(slerp(E1, E2, t), want, atol=1e-6)
    assert torch.allclose(slerp(E1, E2, 0.5), torch.tensor([1, 1, 0]) / math.sqrt(2), atol=1e-6)


def test_slerp_keeps_the_norm_of_equal_length_vectors_where_lerp_does_not():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(100, generator=g), torch.randn(100, generator=g)
    z1 = z1 * z0.norm() / z1.norm()
    t = torch.linspace(0, 1, 11)
    assert torch.allclose(slerp(z0, z1, t).norm(dim=1), z0.norm().expand(11), rtol=1e-5)
    assert lerp(z0, z1, 0.5).norm() < 0.8 * z0.norm()      # the chord cuts inside the shell


def test_slerp_endpoints_and_parallel_cases_have_no_nan():
    g = torch.Generator().manual_seed(1)
    z0, z1 = torch.randn(8, generator=g), torch.randn(8, generator=g)
    assert torch.allclose(slerp(z0, z1, 0.0), z0, atol=1e-6)
    assert torch.allclose(slerp(z0, z1, 1.0), z1, atol=1e-6)
    assert torch.allclose(slerp(z0, 3 * z0, 0.5), 2 * z0)               # parallel: the line
    anti = slerp(E1, -E1, torch.linspace(0, 1, 5))                       # antiparallel: half circle
    assert torch.isfinite(anti).all() and torch.allclose(anti.norm(dim=1), torch.ones(5))
    assert torch.allclose(anti[-1], -E1, atol=1e-6) and abs(float(anti[2] @ E1)) < 1e-6
    assert torch.isfinite(slerp(torch.zeros(3), E1, 0.5)).all()


def test_interpolate_has_exact_endpoints_and_refuses_bad_arguments():
    g = torch.Generator().manual_seed(2)
    z0, z1 = torch.randn(16, generator=g), torch.randn(16, generator=g)
    for method in ("lerp", "slerp"):
        path = interpolate(z0, z1, 7, method)
        assert path.shape == (7, 16) and torch.equal(path[0], z0) and torch.equal(path[-1], z1)
    with pytest.raises(ValueError, match="method='cubic'"):
        interpolate(z0, z1, 5, "cubic")
    with pytest.raises(ValueError, match="n=1 "):
        interpolate(z0, z1, 1)
    with pytest.raises(ValueError, match="same shape"):
        lerp(z0, z1[:3], 0.5)


def test_vector_arithmetic_first_row_and_noise_bounds():
    z = torch.arange(12.0).view(6, 2)
    want = z[[0, 1]].mean(0) - z[[2, 3]].mean(0) + z[[4, 5]].mean(0)
    assert torch.allclose(concept_mean(z, [0, 1]), torch.tensor([1.0, 2.0]))
    out = vector_arithmetic(z, [0, 1], [2, 3], [4, 5], n_neighbours=500, noise=0.25,
                            generator=torch.Generator().manual_seed(0))
    assert out.shape == (501, 2) and torch.allclose(out[0], want)
    offsets = out[1:] - want
    assert offsets.abs().max() <= 0.25 and offsets.abs().max() > 0.2   # uses the whole range
    assert offsets.mean(0).abs().max() < 0.05                           # centred on the result
    assert torch.equal(vector_arithmetic(z, [0], [1], [2], noise=0.0)[1:],
                       vector_arithmetic(z, [0], [1], [2], noise=0.0)[:1].expand(8, 2))


def test_vector_arithmetic_and_concept_mean_refuse_bad_arguments():
    z = torch.zeros(6, 2)
    with pytest.raises(ValueError, match=r"b holds \[9\]"):
        vector_arithmetic(z, [0], [9], [1])
    with pytest.raises(ValueError, match="empty"):
        concept_mean(z, [])
    with pytest.raises(ValueError, match="noise=-1"):
        vector_arithmetic(z, [0], [1], [2], noise=-1)
    with pytest.raises(ValueError, match="n_neighbours=-2"):
        vector_arithmetic(z, [0], [1], [2], n_neighbours=-2)


def test_attribute_direction_is_the_difference_of_means():
    z = torch.tensor([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    has = torch.tensor([True, True, False])
    assert torch.allclose(attribute_direction(z, has), torch.tensor([2.0, -2.0]))
    with pytest.raises(ValueError, match="no sample without"):
        attribute_direction(z, torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match="bool tensor"):
        attribute_direction(z, torch.tensor([1, 0, 1]))
