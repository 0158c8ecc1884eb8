from agenticrec.cli import main

main()
