/* SPDX-License-Identifier: MIT */
/*
 * ELFNOTE(name, type, desc): emit one ELF note into .note.<name>.
 * Use it right after the symbol the note names.
 */
#ifndef PVHSTUB_ELFNOTE_H
#define PVHSTUB_ELFNOTE_H

#ifdef __ASSEMBLY__
#define ELFNOTE(name, type, desc...)			\
	.pushsection .note.name, "a", @note;		\
	.balign 4;					\
	.long 2f - 1f;		/* namesz */		\
	.long 4484f - 3f;	/* descsz */		\
	.long type;					\
1:	.asciz #name;					\
2:	.balign 4;					\
3:	desc;						\
4484:	.balign 4;					\
	.popsection
#endif

#endif /* PVHSTUB_ELFNOTE_H */
