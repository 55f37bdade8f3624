"""One module per notebook, named after it: the lesson's recipe, figures, widgets and exercise
checkers. A lesson imports gankit's core and never another lesson (tests/test_layout.py).

    inverse_cdf      notebooks/01_inverse_cdf.ipynb
    gan_1d           notebooks/02_gan_1d.ipynb
    mnist_mlp_gan    notebooks/03_mnist_mlp_gan.ipynb
    dcgan_faces      notebooks/04_dcgan_faces.ipynb
    conditional_gan  notebooks/05_conditional_gan.ipynb
    wgan             notebooks/06_wgan.ipynb
"""
