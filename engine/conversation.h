/*
 * conversation.h — chat conversations owned by the engine (issue 10; the API
 * lands with its implementation).
 */
#ifndef SLM_CONVERSATION_H
#define SLM_CONVERSATION_H

#include "slm.h"

#endif
