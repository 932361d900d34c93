from linreg.cli import main

main()
