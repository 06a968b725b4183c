"""The RFC 6962 tree as pure functions, checked against the Certificate Transparency reference vectors.

The vectors are the test data of google/certificate-transparency-go (merkle/testonly, also in RFC 6962's reference
implementation): eight leaves, the root of every prefix, and inclusion and consistency proofs between them."""

import random

import pytest

from travesia.audit import merkle

LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, proof)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [  # (first size, second size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip

HASHED = [merkle.leaf_hash(leaf) for leaf in LEAVES]


def root(n: int) -> bytes:
    return bytes.fromhex(ROOTS[n])


def test_roots_of_every_prefix_match_the_reference():
    stream = merkle.RootStream()
    assert merkle.root_of([]) == root(0) == stream.root()
    for n in range(1, 9):
        stream.append(HASHED[n - 1])
        assert merkle.root_of(HASHED[:n]).hex() == ROOTS[n]
        assert stream.root().hex() == ROOTS[n]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION)
def test_inclusion_proofs_match_the_reference_and_verify(index, size, expected):
    proof = merkle.inclusion_proof(index, size, merkle.subtree_of(HASHED[:size]))
    assert [p.hex() for p in proof] == expected
    assert merkle.verify_inclusion(index, size, HASHED[index], proof, root(size))
    assert not merkle.verify_inclusion(index, size, HASHED[index], proof, root(size - 1))
    assert not merkle.verify_inclusion(index, size, HASHED[(index + 1) % size], proof, root(size))
    if proof:
        assert not merkle.verify_inclusion(index, size, HASHED[index], proof[:-1], root(size))


@pytest.mark.parametrize(("first", "second", "expected"), CONSISTENCY)
def test_consistency_proofs_match_the_reference_and_verify(first, second, expected):
    proof = merkle.consistency_proof(first, second, merkle.subtree_of(HASHED[:second]))
    assert [p.hex() for p in proof] == expected
    assert merkle.verify_consistency(first, second, root(first), root(second), proof)
    if first < second:
        assert not merkle.verify_consistency(first, second, root(first - 1), root(second), proof)
        assert not merkle.verify_consistency(first, second, root(first), root(second - 1), proof)
        assert not merkle.verify_consistency(first, second, root(first), root(second), [])


def test_every_proof_in_trees_of_every_shape_verifies_and_a_changed_leaf_fails():
    rng = random.Random(6962)
    leaves = [merkle.leaf_hash(rng.randbytes(rng.randint(0, 40))) for _ in range(70)]
    for size in range(1, len(leaves) + 1):
        subtree = merkle.subtree_of(leaves[:size])
        top = merkle.root_of(leaves[:size])
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, subtree)
            assert len(proof) <= size.bit_length()  # O(log n)
            assert merkle.verify_inclusion(index, size, leaves[index], proof, top)
            assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"forged"), proof, top)
        for first in range(1, size + 1):
            proof = merkle.consistency_proof(first, size, subtree)
            first_root = merkle.root_of(leaves[:first])
            assert merkle.verify_consistency(first, size, first_root, top, proof)
            if first < size:
                rewritten = [*leaves[: first - 1], merkle.leaf_hash(b"rewritten")]
                assert not merkle.verify_consistency(first, size, merkle.root_of(rewritten), top, proof)


def test_proofs_refuse_positions_outside_the_tree():
    subtree = merkle.subtree_of(HASHED)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(8, 8, subtree)
    with pytest.raises(ValueError):
        merkle.consistency_proof(0, 8, subtree)
    assert not merkle.verify_inclusion(8, 8, HASHED[0], [], root(8))
    assert not merkle.verify_consistency(5, 4, root(5), root(4), [])
